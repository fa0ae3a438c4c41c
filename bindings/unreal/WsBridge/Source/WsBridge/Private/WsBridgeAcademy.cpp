#include "WsBridgeAcademy.h"

#include "GameFramework/Actor.h"
#include "WsBridgeAgentComponent.h"
#include "WsBridgeModule.h"
#include "WsBridgeStrings.h"

#include <chrono>
#include <cstring>
#include <utility>

using WsBridgeStrings::FromUtf8;
using WsBridgeStrings::ToUtf8;

namespace
{
	std::string EnvUrl(const FWsBridgeEnvSettings& Settings)
	{
		std::string Url = ToUtf8(Settings.Url);
		if (Settings.bLobby)
		{
			return Url; // the lobby's: it assigns the slot
		}
		if (!Url.empty() && Url.back() == '/')
		{
			Url.pop_back();
		}
		return Url + "/env/" + std::to_string(Settings.Slot);
	}

	/** The env's spec from its first agent: every agent of one env shares these spaces. */
	wsbridge::EnvSpec MakeSpec(const UWsBridgeAgentComponent& Agent, uint32 Agents)
	{
		wsbridge::EnvSpec Spec;
		Spec.name = ToUtf8(GetNameSafe(Agent.GetOwner()));
		Spec.agents = Agents;
		Spec.observation_space = wsbridge::Space::box({Agent.ObservationSize}, wsbridge::Dtype::float32,
			Agent.ObservationLow, Agent.ObservationHigh);
		std::vector<std::int64_t> Branches;
		for (const int32 Choices : Agent.DiscreteBranches)
		{
			Branches.push_back(Choices);
		}
		switch (Agent.ActionType)
		{
		case EWsBridgeActionType::Discrete:
			Spec.action_space = wsbridge::Space::discrete(Branches.empty() ? 0 : Branches[0]);
			break;
		case EWsBridgeActionType::MultiDiscrete:
			Spec.action_space = wsbridge::Space::multi_discrete(Branches);
			break;
		case EWsBridgeActionType::Continuous:
			Spec.action_space = wsbridge::Space::box({Agent.ContinuousActionSize}, wsbridge::Dtype::float32,
				Agent.ContinuousActionLow, Agent.ContinuousActionHigh);
			break;
		}
		return Spec;
	}

	wsbridge::EnvOptions MakeOptions(const FWsBridgeEnvSettings& Settings)
	{
		wsbridge::EnvOptions Options;
		if (!Settings.Token.IsEmpty())
		{
			Options.token = ToUtf8(Settings.Token);
		}
		Options.decision_period = static_cast<uint32>(Settings.DecisionPeriod < 1 ? 1 : Settings.DecisionPeriod);
		Options.repeat_actions = Settings.bTakeActionsBetweenDecisions;
		Options.reconnect_give_up_ms = Settings.ReconnectGiveUpMs < 0 ? -1 : Settings.ReconnectGiveUpMs;
		if (Settings.bLobby)
		{
			Options.lobby = true;
			Options.env_name = ToUtf8(Settings.EnvName);
			Options.lobby_return_ms = static_cast<uint32>(Settings.LobbyReturnMs < 0 ? 0 : Settings.LobbyReturnMs);
		}
		if (!Settings.TlsCaFile.IsEmpty())
		{
			Options.connection.tls.ca_file = ToUtf8(Settings.TlsCaFile);
		}
		if (!Settings.TlsServerName.IsEmpty())
		{
			Options.connection.tls.server_name = ToUtf8(Settings.TlsServerName);
		}
		Options.connection.tls.accept_invalid_certs = Settings.bTlsAcceptInvalidCerts;
		if (!Settings.Proxy.IsEmpty())
		{
			Options.connection.proxy = ToUtf8(Settings.Proxy);
		}
		if (!Settings.bProxyFromEnvironment)
		{
			Options.connection.proxy_from_env = false;
		}
		return Options;
	}
}

void UWsBridgeAcademy::Register(UWsBridgeAgentComponent* Agent)
{
	const std::string Url = EnvUrl(Agent->Env);
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		if (Group->Url == Url)
		{
			if (Group->bOpened)
			{
				UE_LOG(LogWsBridge, Warning, TEXT("%s joined %s after it opened: not trained until the level loads again"),
					*GetNameSafe(Agent->GetOwner()), *FromUtf8(Url));
				return;
			}
			Group->Agents.push_back(Agent);
			return;
		}
	}
	std::unique_ptr<FAgentEnv> Group(new FAgentEnv());
	Group->Url = Url;
	Group->Agents.push_back(Agent);
	Envs.push_back(std::move(Group));
}

void UWsBridgeAcademy::Unregister(UWsBridgeAgentComponent* Agent)
{
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		for (UWsBridgeAgentComponent*& Row : Group->Agents)
		{
			if (Row == Agent)
			{
				Row = nullptr;  // keeps its row: answered as truncated with its last observation
			}
		}
	}
}

wsbridge::Env* UWsBridgeAcademy::FindEnv(const FString& Url, int32 Slot)
{
	FWsBridgeEnvSettings Settings;
	Settings.Url = Url;
	Settings.Slot = Slot;
	const std::string Key = EnvUrl(Settings);
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		if (Group->Url == Key && Group->Session.is_open())
		{
			return &Group->Session;
		}
	}
	return nullptr;
}

bool UWsBridgeAcademy::IsTraining() const
{
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		if (Group->Session.is_open())
		{
			return true;
		}
	}
	return false;
}

void UWsBridgeAcademy::Deinitialize()
{
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		Group->Session.close();  // never blocks: the close handshake runs in the background
	}
	Envs.clear();
	Super::Deinitialize();
}

void UWsBridgeAcademy::Tick(float DeltaTime)
{
	for (const std::unique_ptr<FAgentEnv>& Group : Envs)
	{
		if (!Group->bOpened && !Open(*Group))
		{
			continue;
		}
		if (!Group->bEnded)
		{
			Step(*Group);
		}
	}
}

TStatId UWsBridgeAcademy::GetStatId() const
{
	RETURN_QUICK_DECLARE_CYCLE_STAT(UWsBridgeAcademy, STATGROUP_Tickables);
}

bool UWsBridgeAcademy::Open(FAgentEnv& Group)
{
	Group.bOpened = true;
	const UWsBridgeAgentComponent* First = Group.Agents.empty() ? nullptr : Group.Agents[0];
	if (!First)
	{
		Group.bEnded = true;
		return false;
	}
	const wsbridge::EnvSpec Spec = MakeSpec(*First, static_cast<uint32>(Group.Agents.size()));
	const std::string SpecJson = Spec.to_json();
	for (const UWsBridgeAgentComponent* Agent : Group.Agents)
	{
		if (MakeSpec(*Agent, Spec.agents).to_json() != SpecJson)
		{
			UE_LOG(LogWsBridge, Error, TEXT("%s: %s declares other spaces than %s; every agent of one env needs the same"),
				*FromUtf8(Group.Url), *GetNameSafe(Agent->GetOwner()), *GetNameSafe(First->GetOwner()));
			Group.bEnded = true;
			return false;
		}
	}
	wsbridge::Result<wsbridge::Env> Opened = wsbridge::Env::open(Group.Url, Spec, MakeOptions(First->Env));
	if (!Opened)
	{
		End(Group, Opened.error());
		return false;
	}
	Group.Session = std::move(Opened).value();
	Group.bLockstep = First->Env.bLockstep;
	Group.LockstepTimeoutMs = First->Env.LockstepTimeoutMs;
	Group.bContinuous = First->ActionType == EWsBridgeActionType::Continuous;
	Group.ObservationSize = First->ObservationSize;
	Group.ActionSize = Group.bContinuous ? First->ContinuousActionSize
		: First->ActionType == EWsBridgeActionType::Discrete ? 1 : First->DiscreteBranches.Num();
	// Every buffer of a step, once: no allocation per step from here on.
	Group.Observations.Reserve(Group.ObservationSize);
	Group.ContinuousActions.SetNumZeroed(Group.bContinuous ? Group.ActionSize : 0);
	Group.DiscreteActions.SetNumZeroed(Group.bContinuous ? 0 : Group.ActionSize);
	Group.WireDiscrete.assign(static_cast<size_t>(Group.bContinuous ? 0 : Group.ActionSize), 0);
	Group.LastObservations.assign(Group.Agents.size() * static_cast<size_t>(Group.ObservationSize), 0.f);
	UE_LOG(LogWsBridge, Log, TEXT("%s: %d agents, connecting"), *FromUtf8(Group.Url), static_cast<int32>(Group.Agents.size()));
	return true;
}

void UWsBridgeAcademy::Step(FAgentEnv& Group)
{
	if (Group.bPendingAnswer)
	{
		// The world has simulated the frame since the actions: answer with its outcome.
		Group.bPendingAnswer = false;
		if (!Answer(Group))
		{
			return;
		}
	}
	const std::chrono::milliseconds Timeout(Group.bLockstep ? Group.LockstepTimeoutMs : 0);
	for (;;)
	{
		wsbridge::Result<wsbridge::Event> Event = Group.Session.next(Timeout);
		if (!Event)
		{
			if (!Event.error().is_timeout())
			{
				End(Group, Event.error());
			}
			return;
		}
		switch (Event->kind)
		{
		case wsbridge::EventKind::connected:
		case wsbridge::EventKind::reconnected:
		{
			// The slot's URL: Group.Url itself, or the one a lobby assigned.
			const wsbridge::Result<std::string> Slot = Group.Session.url();
			UE_LOG(LogWsBridge, Log, TEXT("%s: connected to %s (connection %u)"), *FromUtf8(Group.Url),
				*FromUtf8(Slot ? *Slot : Group.Url), Event->connection);
			continue;
		}
		case wsbridge::EventKind::disconnected:
			UE_LOG(LogWsBridge, Warning, TEXT("%s: the link dropped (close code %u); reconnecting"), *FromUtf8(Group.Url),
				static_cast<uint32>(Event->close_code));
			continue;
		case wsbridge::EventKind::finished:
			UE_LOG(LogWsBridge, Log, TEXT("%s: the trainer finished"), *FromUtf8(Group.Url));
			Group.bEnded = true;
			Group.Session.close();
			return;
		case wsbridge::EventKind::reset:
			// A reset needs no simulation: every agent restarts and answers at once.
			Reset(Group, true);
			if (!Answer(Group))
			{
				return;
			}
			continue;
		case wsbridge::EventKind::step:
		case wsbridge::EventKind::repeat:
			Reset(Group, false);
			ApplyActions(Group, Event->kind == wsbridge::EventKind::repeat);
			Group.bPendingAnswer = true;
			return;
		case wsbridge::EventKind::no_decision:
			Group.bPendingAnswer = true;
			return;
		default:
			return;
		}
	}
}

void UWsBridgeAcademy::Reset(FAgentEnv& Group, bool bAll)
{
	for (size_t Row = 0; Row < Group.Agents.size(); Row++)
	{
		wsbridge::Result<wsbridge::AgentReset> Flag = Group.Session.agent_reset(static_cast<uint32>(Row));
		UWsBridgeAgentComponent* Agent = Group.Agents[Row];
		if (Agent && Flag && (bAll || Flag->reset))
		{
			Agent->EpisodeSeed = Flag->seed;
			Agent->EpisodeSteps = 0;
			Agent->TakeReward();
			bool bTerminated = false, bTruncated = false;
			Agent->TakeEpisodeEnd(bTerminated, bTruncated);
			Agent->OnEpisodeBegin();
		}
	}
}

void UWsBridgeAcademy::ApplyActions(FAgentEnv& Group, bool bRepeat)
{
	for (size_t Row = 0; Row < Group.Agents.size(); Row++)
	{
		UWsBridgeAgentComponent* Agent = Group.Agents[Row];
		wsbridge::Result<wsbridge::AgentReset> Flag = Group.Session.agent_reset(static_cast<uint32>(Row));
		if (!Agent || !Flag || Flag->reset)
		{
			continue;  // left, or reset this step (its action is meaningless)
		}
		const uint32 Index = static_cast<uint32>(Row);
		const size_t Items = static_cast<size_t>(Group.ActionSize);
		const wsbridge::Result<std::size_t> Got = Group.bContinuous
			? Group.Session.action(Index, Group.ContinuousActions.GetData(), Items)
			: Group.Session.action(Index, Group.WireDiscrete.data(), Items);
		if (!Got)
		{
			UE_LOG(LogWsBridge, Error, TEXT("%s: the action of agent %u: %s"), *FromUtf8(Group.Url), Index,
				*FromUtf8(Got.error().to_string()));
			continue;
		}
		for (size_t Item = 0; Item < Group.WireDiscrete.size(); Item++)
		{
			Group.DiscreteActions[static_cast<int32>(Item)] = static_cast<int32>(Group.WireDiscrete[Item]);
		}
		if (!bRepeat)
		{
			Agent->EpisodeSteps++;
		}
		Agent->OnActionReceived(Group.ContinuousActions, Group.DiscreteActions);
	}
}

bool UWsBridgeAcademy::Answer(FAgentEnv& Group)
{
	const size_t Size = static_cast<size_t>(Group.ObservationSize);
	for (size_t Row = 0; Row < Group.Agents.size(); Row++)
	{
		const uint32 Index = static_cast<uint32>(Row);
		float* Last = Group.LastObservations.data() + Row * Size;
		UWsBridgeAgentComponent* Agent = Group.Agents[Row];
		if (!Agent)
		{
			// The agent left: its last observation, its episode truncated.
			Group.Session.set_observation(Index, Last, Size);
			Group.Session.set_done(Index, false, true);
			continue;
		}
		Group.Observations.Reset();  // keeps the capacity
		Agent->CollectObservations(Group.Observations);
		const size_t Given = static_cast<size_t>(Group.Observations.Num());
		std::memset(Last, 0, Size * sizeof(float));
		std::memcpy(Last, Group.Observations.GetData(), (Given < Size ? Given : Size) * sizeof(float));
		Group.Session.set_observation(Index, Last, Size);
		Group.Session.set_reward(Index, Agent->TakeReward());
		bool bTerminated = false, bTruncated = false;
		Agent->TakeEpisodeEnd(bTerminated, bTruncated);
		Group.Session.set_done(Index, bTerminated, bTruncated);
	}
	const wsbridge::Result<void> Submitted = Group.Session.submit();
	if (!Submitted)
	{
		End(Group, Submitted.error());
		return false;
	}
	return true;
}

void UWsBridgeAcademy::End(FAgentEnv& Group, const wsbridge::Error& Error)
{
	UE_LOG(LogWsBridge, Error, TEXT("%s: training stopped: %s"), *FromUtf8(Group.Url), *FromUtf8(Error.to_string()));
	Group.bEnded = true;
	Group.Session.close();
}
