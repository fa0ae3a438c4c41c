// FWsBridgeEnvSettings: where and how an agent's env connects (UWsBridgeAgentComponent::Env).
#pragma once

#include "CoreMinimal.h"

#include "WsBridgeEnvSettings.generated.h"

/**
 * Where and how an env connects: the trainer's slot, its token, TLS, proxy, the decision period
 * and lockstep or per-frame driving. Agents whose settings have the same Url and Slot share one
 * env (one connection, one row per agent); the first agent registered sets the rest.
 */
USTRUCT(BlueprintType)
struct WSBRIDGE_API FWsBridgeEnvSettings
{
	GENERATED_BODY()

	/** The trainer's hub, e.g. ws://127.0.0.1:8001 (wss:// for TLS). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	FString Url = TEXT("ws://127.0.0.1:8001");

	/** The slot: the env connects to Url/env/Slot (RemoteVectorEnv's sub-environment). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge", meta = (EditCondition = "!bLobby"))
	int32 Slot = 0;

	/** Url is a lobby's (e.g. wss://edge.example/lobby), not a hub's: the env asks it for a free
	 *  slot, connects there, and goes back to it when the slot is gone for good (docs/env.md,
	 *  Lobby). Slot is then unused. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Lobby")
	bool bLobby = false;

	/** With bLobby: the lobby assigns a slot of a hub serving this env name ("" for any hub). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Lobby", meta = (EditCondition = "bLobby"))
	FString EnvName;

	/** With bLobby: go back to the lobby when reconnecting to the assigned slot has failed this long. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Lobby", meta = (EditCondition = "bLobby", ClampMin = "0"))
	int32 LobbyReturnMs = 5000;

	/** Sent as Authorization: Bearer <token> when not empty (the hub's --token). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	FString Token;

	/** Frames per decision (ML-Agents' DecisionRequester period); 1: a decision every frame. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge", meta = (ClampMin = "1"))
	int32 DecisionPeriod = 1;

	/** Between decisions, call OnActionReceived again with the last actions (else no action). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	bool bTakeActionsBetweenDecisions = true;

	/** Lockstep: the game thread waits (up to LockstepTimeoutMs a frame) for the trainer's next
	 *  request, the fastest training loop with a fixed time step. Off: per-frame polling that never
	 *  waits (the game runs at its own speed; the trainer's request is served the next frame). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	bool bLockstep = false;

	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge", meta = (EditCondition = "bLockstep"))
	int32 LockstepTimeoutMs = 1000;

	/** Give up reconnecting after this long without a connection (-1: never); with bLobby, also
	 *  bounds the wait for a free slot. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	int32 ReconnectGiveUpMs = 30000;

	/** wss:// only: a PEM file of trusted CAs, replacing the system's roots ("" keeps them). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	FString TlsCaFile;
	/** wss:// only: the name to verify in the certificate instead of the URL's host. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	FString TlsServerName;
	/** wss:// only, development only: accept any certificate. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	bool bTlsAcceptInvalidCerts = false;

	/** HTTP proxy, "http://user:pass@host:port" ("" for none, or from the environment). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Proxy")
	FString Proxy;
	/** Use HTTPS_PROXY, HTTP_PROXY, ALL_PROXY when Proxy is "". */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Proxy")
	bool bProxyFromEnvironment = true;
};
