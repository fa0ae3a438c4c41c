// UWsBridgeClient: a WebSocket connection to a Python trainer, for C++ and Blueprints.
#pragma once

#include "Components/ActorComponent.h"
#include "CoreMinimal.h"
#include "WsBridgeTypes.h"

THIRD_PARTY_INCLUDES_START
#include "wsbridge.hpp"
THIRD_PARTY_INCLUDES_END

#include "WsBridgeClient.generated.h"

/**
 * A connection to a trainer (ws://host:port/path), as an actor component.
 *
 * Real-time use: Connect() returns at once; every tick (also while the game is paused) the
 * component delivers the whole messages that arrived, on the game thread, through OnTextMessage
 * and OnBinaryMessage, at most MaxMessagesPerTick per tick. OnConnected, OnError and OnClosed
 * report the connection's life.
 *
 * Lockstep training: Exchange() sends an observation and blocks the game thread until the
 * trainer's reply arrives. wsbridge receives on its own thread, so the reply is delivered
 * without an engine tick (Unreal's WebSockets module would never deliver it to a blocked game
 * thread). Replies returned by Exchange are not broadcast.
 *
 * Every function returns false on failure and leaves the result and message in
 * GetLastResult()/GetLastError(). Strings cross as UTF-8. Errors never crash the game: with the
 * library missing, every call fails with a message saying so.
 */
UCLASS(ClassGroup = (Networking), BlueprintType, meta = (BlueprintSpawnableComponent))
class WSBRIDGE_API UWsBridgeClient : public UActorComponent
{
	GENERATED_BODY()

public:
	UWsBridgeClient();

	/** Connect options (wsbridge.h documents each; -1 keeps the library's default). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 ConnectTimeoutMs = -1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 MaxMessageSize = -1;
	/** 0 disables wsbridge's own keepalive pings. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 PingIntervalMs = -1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 PongTimeoutMs = -1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 SendQueueMaxBytes = -1;
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	int32 RecvQueueMaxBytes = -1;
	/** Extra headers of the upgrade request, e.g. Authorization. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	TMap<FString, FString> Headers;
	/** Offered in Sec-WebSocket-Protocol; GetSubprotocol() tells which one the trainer chose. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Options")
	TArray<FString> Subprotocols;

	/** Most messages broadcast per tick; the rest wait for the next tick (0: no limit). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	int32 MaxMessagesPerTick = 256;
	/** How long Close(), EndPlay and destruction wait for the close handshake. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	int32 CloseTimeoutMs = 1000;

	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeConnectedEvent OnConnected;
	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeTextEvent OnTextMessage;
	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeBinaryEvent OnBinaryMessage;
	/** A failure of the connection (refused, lost, timed out ...); OnClosed follows. */
	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeErrorEvent OnError;
	/** The connection ended: the trainer's close code and reason (1006 without a close frame).
	 *  Not broadcast after your own Close(). */
	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeClosedEvent OnClosed;

	/** Starts connecting to Url (e.g. ws://127.0.0.1:8001/env/0) without blocking the frame,
	 *  replacing any current connection. Messages sent meanwhile are queued. False if the URL or
	 *  an option is rejected at once. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool Connect(const FString& Url);

	/** Connects and blocks until the connection is open or has failed (within
	 *  ConnectTimeoutMs): for training loops and tools. OnConnected is broadcast on the next tick. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool ConnectBlocking(const FString& Url);

	/** Queues a text message (sent as UTF-8) and returns at once. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool SendText(const FString& Text);

	/** Queues a binary message and returns at once. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool SendBinary(const TArray<uint8>& Bytes);

	/** Lockstep: sends Text and blocks until the next message arrives (at most TimeoutMs; -1
	 *  waits without limit), returned in OutReply. The reply must be a text message. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool Exchange(const FString& Text, int32 TimeoutMs, FString& OutReply);

	/** Lockstep with binary messages: the reply's bytes, whatever its kind. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool ExchangeBinary(const TArray<uint8>& Bytes, int32 TimeoutMs, TArray<uint8>& OutReply);

	/** Flushes queued messages, closes with Code and Reason (waits at most CloseTimeoutMs)
	 *  and releases the connection. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool Close(int32 Code = 1000, const FString& Reason = TEXT(""));

	UFUNCTION(BlueprintPure, Category = "WsBridge")
	EWsBridgeState GetState() const;

	/** The subprotocol the trainer selected, "" if none. */
	UFUNCTION(BlueprintPure, Category = "WsBridge")
	FString GetSubprotocol() const;

	UFUNCTION(BlueprintPure, Category = "WsBridge")
	EWsBridgeResult GetLastResult() const { return LastResult; }

	/** What the last failure was, e.g. "WSB_HANDSHAKE_FAILED: ... HTTP 404 ...". */
	UFUNCTION(BlueprintPure, Category = "WsBridge")
	FString GetLastError() const { return LastError; }

	/** The C++ wrapper under this component, for C++ callers who want all of it (views without
	 *  copies, poll, close status). Use it on the game thread, like the component. */
	wsbridge::Client& GetNativeClient() { return Connection; }

	virtual void TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction) override;
	virtual void EndPlay(const EEndPlayReason::Type EndPlayReason) override;
	virtual void BeginDestroy() override;

private:
	bool Open(const FString& Url, bool bBlocking);
	wsbridge::Options MakeOptions() const;
	/** Records the outcome of a call in LastResult/LastError; true on success. */
	bool Succeeded(const wsbridge::Error& Error);
	bool Fail(EWsBridgeResult Result, const FString& Message);
	bool LibraryReady();
	void Deliver(const wsbridge::Message& Message);
	void Ended(const wsbridge::Error& Error);
	void Release(int32 Code, const char* Reason);

	wsbridge::Client Connection;
	bool bAnnouncedOpen = false;
	bool bFailureReported = false;
	EWsBridgeResult LastResult = EWsBridgeResult::Ok;
	FString LastError;
};
