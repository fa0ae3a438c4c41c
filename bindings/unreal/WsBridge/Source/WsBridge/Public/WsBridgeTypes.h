// Blueprint types of the WsBridge plugin: result codes, connection states, event signatures.
#pragma once

#include "CoreMinimal.h"

#include "WsBridgeTypes.generated.h"

/** A wsbridge result code (the WSB_* codes of wsbridge.h, in the same order). */
UENUM(BlueprintType)
enum class EWsBridgeResult : uint8
{
	Ok = 0,
	Timeout,
	BufferTooSmall,
	WouldBlock,
	Closed,
	InvalidArgument,
	InvalidHandle,
	InvalidUtf8,
	MessageTooBig,
	ConnectFailed,
	HandshakeFailed,
	ConnectionLost,
	ProtocolError,
	Internal,
	TlsFailed,
	/** Not a wsbridge code: the library is not loaded, a code this plugin does not know (a
	 *  newer library), or a plugin-level failure such as a binary reply to Exchange. The
	 *  message says which. */
	Unknown
};

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
	Closed
};

DECLARE_DYNAMIC_MULTICAST_DELEGATE(FWsBridgeConnectedEvent);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWsBridgeTextEvent, const FString&, Text);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(FWsBridgeBinaryEvent, const TArray<uint8>&, Bytes);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FWsBridgeErrorEvent, EWsBridgeResult, Result, const FString&, Message);
DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(FWsBridgeClosedEvent, int32, Code, const FString&, Reason);
