#include "WsBridgeClient.h"

#include "WsBridgeModule.h"
// Generated: static_asserts of EWsBridgeResult against the values of wsbridge.h.
#include "WsBridgeResultChecks.h"
#include "WsBridgeStrings.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace
{
	using WsBridgeStrings::FromUtf8;
	using WsBridgeStrings::ToUtf8;

	EWsBridgeResult ToResult(wsb_result Code)
	{
		return Code < static_cast<wsb_result>(EWsBridgeResult::Unknown) ? static_cast<EWsBridgeResult>(Code) : EWsBridgeResult::Unknown;
	}

	/** Milliseconds as wsbridge takes them: any negative value waits without limit. */
	std::chrono::milliseconds Millis(int32 Value)
	{
		return std::chrono::milliseconds(Value < 0 ? -1 : Value);
	}
}

UWsBridgeClient::UWsBridgeClient()
{
	PrimaryComponentTick.bCanEverTick = true;
	PrimaryComponentTick.bStartWithTickEnabled = true;
	PrimaryComponentTick.bTickEvenWhenPaused = true;
}

bool UWsBridgeClient::Connect(const FString& Url)
{
	return Open(Url, false);
}

bool UWsBridgeClient::ConnectBlocking(const FString& Url)
{
	return Open(Url, true);
}

bool UWsBridgeClient::Open(const FString& Url, bool bBlocking)
{
	if (!LibraryReady())
	{
		return false;
	}
	Release(1000, "reconnecting");
	const std::string Utf8Url = ToUtf8(Url);
	const wsbridge::Options Options = MakeOptions();
	wsbridge::Result<wsbridge::Client> Opened = bBlocking ? wsbridge::Client::connect(Utf8Url, Options)
	                                                      : wsbridge::Client::connect_async(Utf8Url, Options);
	if (!Succeeded(Opened.error()))
	{
		return false;
	}
	Connection = std::move(Opened).value();
	Connection.set_close_timeout(Millis(CloseTimeoutMs));
	bAnnouncedOpen = false;
	bFailureReported = false;
	return true;
}

wsbridge::Options UWsBridgeClient::MakeOptions() const
{
	wsbridge::Options Options;
	auto Ms = [](int32 Value, std::optional<uint32_t>& Field) { if (Value >= 0) Field = static_cast<uint32_t>(Value); };
	auto Size = [](int32 Value, std::optional<uint64_t>& Field) { if (Value >= 0) Field = static_cast<uint64_t>(Value); };
	Ms(ConnectTimeoutMs, Options.connect_timeout_ms);
	Ms(PingIntervalMs, Options.ping_interval_ms);
	Ms(PongTimeoutMs, Options.pong_timeout_ms);
	Size(MaxMessageSize, Options.max_message_size);
	Size(SendQueueMaxBytes, Options.send_queue_max_bytes);
	Size(RecvQueueMaxBytes, Options.recv_queue_max_bytes);
	for (const TPair<FString, FString>& Header : Headers)
	{
		Options.headers[ToUtf8(Header.Key)] = ToUtf8(Header.Value);
	}
	for (const FString& Protocol : Subprotocols)
	{
		Options.subprotocols.push_back(ToUtf8(Protocol));
	}
	if (!TlsCaFile.IsEmpty())
	{
		Options.tls.ca_file = ToUtf8(TlsCaFile);
	}
	if (!TlsServerName.IsEmpty())
	{
		Options.tls.server_name = ToUtf8(TlsServerName);
	}
	Options.tls.accept_invalid_certs = bTlsAcceptInvalidCerts;
	if (!Proxy.IsEmpty())
	{
		Options.proxy = ToUtf8(Proxy);
	}
	if (!bProxyFromEnvironment)
	{
		Options.proxy_from_env = false;
	}
	Options.reconnect.enabled = bReconnect;
	Ms(ReconnectDelayMs, Options.reconnect.delay_ms);
	Ms(ReconnectMaxDelayMs, Options.reconnect.max_delay_ms);
	Options.reconnect.give_up_ms = ReconnectGiveUpMs < 0 ? -1 : ReconnectGiveUpMs;
	Ms(ReconnectJitterPercent, Options.reconnect.jitter_percent);
	return Options;
}

bool UWsBridgeClient::SendText(const FString& Text)
{
	return LibraryReady() && Succeeded(Connection.send(ToUtf8(Text)).error());
}

bool UWsBridgeClient::SendBinary(const TArray<uint8>& Bytes)
{
	return LibraryReady() && Succeeded(Connection.send_binary(Bytes.GetData(), static_cast<size_t>(Bytes.Num())).error());
}

EWsBridgeReceiveResult UWsBridgeClient::Exchange(const FString& Text, int32 TimeoutMs, FString& OutReply)
{
	OutReply.Reset();
	if (!LibraryReady())
	{
		return EWsBridgeReceiveResult::Closed;
	}
	const wsbridge::Result<wsbridge::Message> Reply = Connection.exchange(ToUtf8(Text), Millis(TimeoutMs));
	if (!Reply)
	{
		return Received(Reply.error());
	}
	Succeeded(Reply.error());
	if (!Reply->is_text())
	{
		// A reply of the wrong kind is the game's protocol error, not a close: still a message.
		Fail(EWsBridgeResult::Unknown, FString::Printf(TEXT("Exchange: the reply is a binary message of %llu bytes; use ExchangeBinary"), static_cast<unsigned long long>(Reply->size)));
		return EWsBridgeReceiveResult::Message;
	}
	OutReply = FromUtf8(Reply->text());
	return EWsBridgeReceiveResult::Message;
}

EWsBridgeReceiveResult UWsBridgeClient::ExchangeBinary(const TArray<uint8>& Bytes, int32 TimeoutMs, TArray<uint8>& OutReply)
{
	OutReply.Reset();
	if (!LibraryReady())
	{
		return EWsBridgeReceiveResult::Closed;
	}
	const wsbridge::Result<wsbridge::Message> Reply = Connection.exchange_binary(Bytes.GetData(), static_cast<size_t>(Bytes.Num()), Millis(TimeoutMs));
	if (!Reply)
	{
		return Received(Reply.error());
	}
	Succeeded(Reply.error());
	OutReply.Append(Reply->data, static_cast<int32>(Reply->size));
	return EWsBridgeReceiveResult::Message;
}

EWsBridgeReceiveResult UWsBridgeClient::Received(const wsbridge::Error& Error)
{
	Succeeded(Error);
	if (Error.is_timeout())
	{
		return EWsBridgeReceiveResult::Timeout;
	}
	if (Error.is_reconnected())
	{
		OnReconnected.Broadcast();
		return EWsBridgeReceiveResult::Reconnected;
	}
	// The end (or a refused send) is also reported by the next tick: OnError, then OnClosed.
	return EWsBridgeReceiveResult::Closed;
}

bool UWsBridgeClient::Close(int32 Code, const FString& Reason)
{
	if (!Connection.valid())
	{
		return Succeeded(wsbridge::Error());  // nothing to close
	}
	if (!LibraryReady())
	{
		static_cast<void>(Connection.release());
		return false;
	}
	if (Code < 0 || Code > 65535)
	{
		return Fail(EWsBridgeResult::InvalidArgument, FString::Printf(TEXT("WSB_INVALID_ARGUMENT: close code %d is not a WebSocket close code (1000-4999)"), Code));
	}
	const wsbridge::Result<void> Started = Connection.close_in_background(static_cast<uint16_t>(Code), ToUtf8(Reason), Millis(CloseTimeoutMs));
	return Succeeded(Started.error());
}

bool UWsBridgeClient::CloseBlocking(int32 Code, const FString& Reason)
{
	if (!Connection.valid())
	{
		return Succeeded(wsbridge::Error());  // nothing to close
	}
	if (!LibraryReady())
	{
		static_cast<void>(Connection.release());
		return false;
	}
	if (Code < 0 || Code > 65535)
	{
		return Fail(EWsBridgeResult::InvalidArgument, FString::Printf(TEXT("WSB_INVALID_ARGUMENT: close code %d is not a WebSocket close code (1000-4999)"), Code));
	}
	const wsbridge::Result<void> Closed = Connection.close(static_cast<uint16_t>(Code), ToUtf8(Reason), Millis(CloseTimeoutMs));
	return Succeeded(Closed.error());
}

EWsBridgeState UWsBridgeClient::GetState() const
{
	if (!Connection.valid() || !FWsBridgeModule::IsLibraryAvailable())
	{
		return EWsBridgeState::Disconnected;
	}
	const wsbridge::Result<wsbridge::State> State = Connection.state();
	if (!State)
	{
		return EWsBridgeState::Closed;
	}
	switch (*State)
	{
	case wsbridge::State::connecting: return EWsBridgeState::Connecting;
	case wsbridge::State::open: return EWsBridgeState::Open;
	case wsbridge::State::closing: return EWsBridgeState::Closing;
	case wsbridge::State::reconnecting: return EWsBridgeState::Reconnecting;
	default: return EWsBridgeState::Closed;
	}
}

FString UWsBridgeClient::GetSubprotocol() const
{
	if (!Connection.valid() || !FWsBridgeModule::IsLibraryAvailable())
	{
		return FString();
	}
	const wsbridge::Result<std::string> Protocol = Connection.subprotocol();
	return Protocol ? FromUtf8(*Protocol) : FString();
}

void UWsBridgeClient::TickComponent(float DeltaTime, ELevelTick TickType, FActorComponentTickFunction* ThisTickFunction)
{
	Super::TickComponent(DeltaTime, TickType, ThisTickFunction);
	Pump();
}

void UWsBridgeClient::Pump()
{
	if (!Connection.valid() || !FWsBridgeModule::IsLibraryAvailable())
	{
		return;
	}
	if (!bAnnouncedOpen)
	{
		const wsbridge::Result<wsbridge::State> State = Connection.state();
		if (State && *State == wsbridge::State::open)
		{
			bAnnouncedOpen = true;
			OnConnected.Broadcast();
			if (!Connection.valid())
			{
				return;  // a handler closed the connection
			}
		}
	}
	const wsb_handle Handle = Connection.handle();
	const size_t Max = MaxMessagesPerTick > 0 ? static_cast<size_t>(MaxMessagesPerTick) : SIZE_MAX;
	const wsbridge::Result<size_t> Polled = Connection.poll(Max, [this, Handle](const wsbridge::Message& Message)
	{
		Deliver(Message);
		return Connection.handle() == Handle;  // false: a handler closed or replaced the connection
	});
	if (!Polled && Connection.handle() == Handle)
	{
		if (Polled.error().is_reconnected())
		{
			// Not an end: a new connection is open; its messages come from the next tick.
			Succeeded(wsbridge::Error());
			OnReconnected.Broadcast();
			return;
		}
		Ended(Polled.error());
	}
}

void UWsBridgeClient::Deliver(const wsbridge::Message& Message)
{
	if (Message.is_text())
	{
		OnTextMessage.Broadcast(FromUtf8(Message.text()));
	}
	else
	{
		TArray<uint8> Bytes;
		Bytes.Append(Message.data, static_cast<int32>(Message.size));
		OnBinaryMessage.Broadcast(Bytes);
	}
}

void UWsBridgeClient::Ended(const wsbridge::Error& Error)
{
	const bool bClosed = Error.is_closed();
	if (!bClosed)
	{
		Succeeded(Error);
		OnError.Broadcast(LastResult, LastError);
		// wsbridge reports the failure that ended a connection once, then WSB_CLOSED: the next
		// tick broadcasts OnClosed. A dead handle (or a second failure) ends it now.
		const bool bFinal = Error.code() == WSB_INVALID_HANDLE || bFailureReported;
		bFailureReported = true;
		if (!bFinal || !Connection.valid())
		{
			return;
		}
	}
	int32 Code = 1006;
	FString Reason;
	if (bClosed)
	{
		const wsbridge::Result<wsbridge::CloseStatus> Status = Connection.close_status();
		if (Status)
		{
			Code = Status->code;
			Reason = FromUtf8(Status->reason);
		}
	}
	Release(1000, nullptr);
	OnClosed.Broadcast(Code, Reason);
}

void UWsBridgeClient::Release(int32 Code, const char* Reason)
{
	if (!Connection.valid())
	{
		return;
	}
	if (FWsBridgeModule::IsLibraryAvailable())
	{
		// Never waits on the game thread (EndPlay, BeginDestroy inside garbage collection, a
		// reconnect): the handshake finishes in the background within CloseTimeoutMs, and
		// FWsBridgeModule::ShutdownModule (wsb_shutdown) ends any still pending.
		static_cast<void>(Connection.close_in_background(static_cast<uint16_t>(Code), Reason ? Reason : "", Millis(CloseTimeoutMs)));
	}
	// Whatever happened (or if the library is gone), the handle is no longer ours to use.
	static_cast<void>(Connection.release());
}

void UWsBridgeClient::EndPlay(const EEndPlayReason::Type EndPlayReason)
{
	Release(1000, "end of play");
	Super::EndPlay(EndPlayReason);
}

void UWsBridgeClient::BeginDestroy()
{
	Release(1001, "destroyed");
	Super::BeginDestroy();
}

bool UWsBridgeClient::LibraryReady()
{
	if (FWsBridgeModule::IsLibraryAvailable())
	{
		return true;
	}
	return Fail(EWsBridgeResult::Unknown, TEXT("wsbridge is not available: ") + FWsBridgeModule::UnavailableReason());
}

bool UWsBridgeClient::Succeeded(const wsbridge::Error& Error)
{
	if (Error.code() == WSB_OK)
	{
		LastResult = EWsBridgeResult::Ok;
		LastError.Reset();
		return true;
	}
	return Fail(ToResult(Error.code()), FromUtf8(Error.to_string()));
}

bool UWsBridgeClient::Fail(EWsBridgeResult Result, const FString& Message)
{
	LastResult = Result;
	LastError = Message;
	// Network events are values for the game (and reach it as OnError/OnClosed): not logged.
	const bool bNetworkEvent = Result == EWsBridgeResult::Timeout || Result == EWsBridgeResult::Closed ||
	                           Result == EWsBridgeResult::ConnectionLost || Result == EWsBridgeResult::WouldBlock ||
	                           Result == EWsBridgeResult::InvalidHandle;
	if (!bNetworkEvent)
	{
		UE_LOG(LogWsBridge, Warning, TEXT("%s: %s"), *GetNameSafe(GetOwner()), *Message);
	}
	return false;
}
