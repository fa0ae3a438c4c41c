#include "WsBridgeCartPoleAgent.h"

#include <cmath>

UWsBridgeCartPoleAgent::UWsBridgeCartPoleAgent()
{
	ObservationSize = 4;  // x, x', theta, theta'
	ActionType = EWsBridgeActionType::Discrete;
	DiscreteBranches = {2};  // push left, push right
}

void UWsBridgeCartPoleAgent::OnEpisodeBegin_Implementation()
{
	if (EpisodeSeed >= 0)
	{
		Random = static_cast<uint64>(EpisodeSeed) + 1;  // reproducible: reset(seed=...)
	}
	auto Uniform = [this] {
		Random ^= Random << 13;
		Random ^= Random >> 7;
		Random ^= Random << 17;
		return static_cast<double>(Random >> 11) / 9007199254740992.0 * 0.1 - 0.05;
	};
	X = Uniform();
	XDot = Uniform();
	Theta = Uniform();
	ThetaDot = Uniform();
}

void UWsBridgeCartPoleAgent::OnActionReceived_Implementation(const TArray<float>& ContinuousActions, const TArray<int32>& DiscreteActions)
{
	// Barto, Sutton and Anderson's equations, Euler steps of 20 ms.
	const double Force = DiscreteActions[0] == 1 ? 10.0 : -10.0;
	const double Cos = std::cos(Theta), Sin = std::sin(Theta);
	const double Temp = (Force + 0.05 * ThetaDot * ThetaDot * Sin) / 1.1;
	const double ThetaAcc = (9.8 * Sin - Cos * Temp) / (0.5 * (4.0 / 3.0 - 0.1 * Cos * Cos / 1.1));
	const double XAcc = Temp - 0.05 * ThetaAcc * Cos / 1.1;
	X += 0.02 * XDot;
	XDot += 0.02 * XAcc;
	Theta += 0.02 * ThetaDot;
	ThetaDot += 0.02 * ThetaAcc;

	AddReward(1.f);
	if (std::fabs(X) > 2.4 || std::fabs(Theta) > 12.0 * 3.14159265358979 / 180.0)
	{
		EndEpisode(false);  // terminated: the pole fell or the cart left the track
	}
	else if (EpisodeSteps >= MaxSteps)
	{
		EndEpisode(true);  // truncated: time limit
	}
}

void UWsBridgeCartPoleAgent::CollectObservations_Implementation(TArray<float>& Observations)
{
	Observations.Add(static_cast<float>(X));
	Observations.Add(static_cast<float>(XDot));
	Observations.Add(static_cast<float>(Theta));
	Observations.Add(static_cast<float>(ThetaDot));
}
