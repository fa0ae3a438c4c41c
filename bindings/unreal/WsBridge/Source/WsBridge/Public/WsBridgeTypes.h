// Blueprint types of the WsBridge plugin: connection states, event signatures (the result codes
// are in the generated WsBridgeResult.h).
#pragma once

#include "CoreMinimal.h"
// EWsBridgeResult, generated from the Rust source (`make generate`).
#include "WsBridgeResult.h"

#include "WsBridgeTypes.generated.h"

/** The state of a UWsBridgeClient's connection. */
UENUM(BlueprintType)
enum class EWsBridgeState : uint8
{
	/** Never connected, or closed by Close(): no connection. */
	Disconnected,
	Connecting,
	Open,
	Closing,
	/** Ended by the trainer or by a failure; OnClosed has been or is about to be broadcast. */
	Closed,
	/** bReconnect only: the link was lost (or an attempt failed); waiting out the backoff or
	 *  connecting again. Sends are queued meanwhile; OnReconnected follows the new connection. */
	Reconnecting
};

/** What a lockstep Exchange got: a reply and a close cannot be mistaken for each other. */
UENUM(BlueprintType)
enum class EWsBridgeReceiveResult : uint8
{
	/** The reply is in OutReply. */
	Message,
	/** No reply within the timeout; the connection is fine (a late reply comes with the next Exchange). */
	Timeout,
	/** The connection has ended, or there is none, or the send was refused (GetLastResult/GetLastError
	 *  say which); OnError/OnClosed are broadcast on the next tick as usual. */
	Closed,
	/** bReconnect only: the link was lost and a new connection is open; the reply will not come.
	 *  Send the trainer what a new connection needs first (a hello), then Exchange again. */
	Reconnected
};

DECLARE_DYNAMIC_MULTICAST_DELEGATE(FWsBridgeConnectedEvent);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWsBridgeTextEvent, const FString&, Text);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWsBridgeBinaryEvent, const TArray<uint8>&, Bytes);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FWsBridgeErrorEvent, EWsBridgeResult, Result, const FString&, Message);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FWsBridgeClosedEvent, int32, Code, const FString&, Reason);
