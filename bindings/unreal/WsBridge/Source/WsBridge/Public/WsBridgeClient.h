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
 * Nothing here throws or blocks a frame for a network event: SendText/SendBinary return false
 * when the message was not queued (connection ended, or queue full: GetLastResult says which)
 * and the end reaches the game as OnError/OnClosed; Exchange returns Message, Timeout or
 * Closed. Close(), EndPlay and destruction return at once: the close handshake finishes on a
 * background (wsb_close_async, on wsbridge's I/O thread) within CloseTimeoutMs (CloseBlocking waits, for tools). Failures leave the
 * result and message in GetLastResult()/GetLastError(); only failures that are not network
 * events (bad URL, option or close code, library missing) are logged as warnings.
 * Strings cross as UTF-8. To keep one connection across level loads, use
 * UWsBridgeSubsystem (a game-instance subsystem that owns one of these components).
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

	/** wss:// only: a PEM file of trusted CAs, replacing the system's roots ("" keeps them). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	FString TlsCaFile;
	/** wss:// only: the name to verify in the certificate instead of the URL's host. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	FString TlsServerName;
	/** wss:// only, development only: accept any certificate (no verification at all). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|TLS")
	bool bTlsAcceptInvalidCerts = false;

	/** HTTP proxy for the connection, "http://user:pass@host:port" ("" for none, or from the environment). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Proxy")
	FString Proxy;
	/** Use HTTPS_PROXY, HTTP_PROXY, ALL_PROXY from the environment when Proxy is "" (the library's default). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Proxy")
	bool bProxyFromEnvironment = true;

	/** Reconnect after a lost link, with backoff and jitter (the `reconnect` option of wsbridge.h,
	 *  which states when it retries). State Reconnecting meanwhile; sends are queued (up to
	 *  SendQueueMaxBytes) and go out after the new handshake; OnReconnected follows each new
	 *  connection; when it gives up, OnError then OnClosed. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Reconnect")
	bool bReconnect = false;
	/** First delay after a loss (-1: the library's default, 100 ms); doubles after each failed attempt. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Reconnect")
	int32 ReconnectDelayMs = -1;
	/** Cap of that delay (-1: the library's default, 5000 ms). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Reconnect")
	int32 ReconnectMaxDelayMs = -1;
	/** Give up when no connection has been open for this long (-1: never). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Reconnect")
	int32 ReconnectGiveUpMs = 60000;
	/** Share of each delay that is random, 0-100 (-1: the library's default, 50). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge|Reconnect")
	int32 ReconnectJitterPercent = -1;

	/** Most messages broadcast per tick; the rest wait for the next tick (0: no limit). */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	int32 MaxMessagesPerTick = 256;
	/** How long the close handshake may take in the background after Close(), EndPlay and
	 *  destruction (the game thread never waits for it), and how long CloseBlocking() waits. */
	UPROPERTY(EditAnywhere, BlueprintReadWrite, Category = "WsBridge")
	int32 CloseTimeoutMs = 1000;

	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeConnectedEvent OnConnected;
	/** bReconnect only: the link was lost and a new connection is open (the trainer may not know
	 *  this session: send it what it needs first). Messages of the new connection follow. */
	UPROPERTY(BlueprintAssignable, Category = "WsBridge|Events")
	FWsBridgeConnectedEvent OnReconnected;
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

	/** Queues a text message (sent as UTF-8) and returns at once. False if it was not queued:
	 *  the connection has ended (the end comes as OnError/OnClosed) or the send queue is full
	 *  (GetLastResult() is WouldBlock); safe to ignore in a per-frame send. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool SendText(const FString& Text);

	/** Queues a binary message and returns at once; false as SendText. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool SendBinary(const TArray<uint8>& Bytes);

	/** Lockstep: sends Text and blocks until the next message arrives (at most TimeoutMs; -1
	 *  waits without limit). Message: the reply is in OutReply (it must be text); Timeout; or
	 *  Closed: the connection has ended (or the send was refused), never an empty reply. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	EWsBridgeReceiveResult Exchange(const FString& Text, int32 TimeoutMs, FString& OutReply);

	/** Lockstep with binary messages: the reply's bytes, whatever its kind. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	EWsBridgeReceiveResult ExchangeBinary(const TArray<uint8>& Bytes, int32 TimeoutMs, TArray<uint8>& OutReply);

	/** Closes with Code and Reason without blocking the frame: the component has no connection
	 *  when this returns; queued messages are flushed and the close handshake completes in the
	 *  background (wsb_close_async) within CloseTimeoutMs. False only for a code outside 0-65535. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool Close(int32 Code = 1000, const FString& Reason = TEXT(""));

	/** Close, waiting on this thread for the handshake (at most CloseTimeoutMs): for tools and
	 *  training scripts, not for a game frame. False if it timed out or the code or reason was refused. */
	UFUNCTION(BlueprintCallable, Category = "WsBridge")
	bool CloseBlocking(int32 Code = 1000, const FString& Reason = TEXT(""));

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

	/** Delivers what arrived since the last call (OnConnected, messages, OnError, OnClosed).
	 *  TickComponent calls it; an owner that ticks the component itself (UWsBridgeSubsystem) too. */
	void Pump();

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
	/** Gives the connection up without blocking (its close finishes in the background). */
	void Release(int32 Code, const char* Reason);
	EWsBridgeReceiveResult Received(const wsbridge::Error& Error);

	wsbridge::Client Connection;
	bool bAnnouncedOpen = false;
	bool bFailureReported = false;
	EWsBridgeResult LastResult = EWsBridgeResult::Ok;
	FString LastError;
};
