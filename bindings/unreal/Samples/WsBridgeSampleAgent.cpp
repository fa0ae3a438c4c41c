#include "WsBridgeSampleAgent.h"

#include "Dom/JsonObject.h"
#include "Serialization/JsonReader.h"
#include "Serialization/JsonSerializer.h"

AWsBridgeSampleAgent::AWsBridgeSampleAgent()
{
	PrimaryActorTick.bCanEverTick = true;
	Bridge = CreateDefaultSubobject<UWsBridgeClient>(TEXT("Bridge"));
	Bridge->ConnectTimeoutMs = 5000;
}

void AWsBridgeSampleAgent::BeginPlay()
{
	Super::BeginPlay();
	Bridge->OnConnected.AddDynamic(this, &AWsBridgeSampleAgent::OnConnected);
	Bridge->OnTextMessage.AddDynamic(this, &AWsBridgeSampleAgent::OnText);
	Bridge->OnError.AddDynamic(this, &AWsBridgeSampleAgent::OnError);
	Bridge->OnClosed.AddDynamic(this, &AWsBridgeSampleAgent::OnClosed);
	if (!Bridge->Connect(TrainerUrl))
	{
		UE_LOG(LogTemp, Error, TEXT("%s"), *Bridge->GetLastError());  // a malformed URL
	}
}

void AWsBridgeSampleAgent::Tick(float DeltaSeconds)
{
	Super::Tick(DeltaSeconds);
	SetActorLocation(GetActorLocation() + Velocity * DeltaSeconds);
	if (Bridge->GetState() != EWsBridgeState::Open)
	{
		return;
	}
	const FVector P = GetActorLocation();
	// Ignoring the result is fine: false means not queued (ended or queue full), and the end
	// arrives as OnError/OnClosed.
	Bridge->SendText(FString::Printf(TEXT("{\"step\": %d, \"position\": [%f, %f, %f]}"), ++Step, P.X, P.Y, P.Z));
}

void AWsBridgeSampleAgent::OnConnected()
{
	UE_LOG(LogTemp, Log, TEXT("connected to %s"), *TrainerUrl);
}

void AWsBridgeSampleAgent::OnText(const FString& Text)
{
	// The trainer answers {"step": n, "move": [x, y]}.
	TSharedPtr<FJsonObject> Reply;
	const TSharedRef<TJsonReader<>> Reader = TJsonReaderFactory<>::Create(Text);
	const TArray<TSharedPtr<FJsonValue>>* Move = nullptr;
	if (FJsonSerializer::Deserialize(Reader, Reply) && Reply.IsValid() && Reply->TryGetArrayField(TEXT("move"), Move) && Move->Num() == 2)
	{
		Velocity = FVector((*Move)[0]->AsNumber(), (*Move)[1]->AsNumber(), 0.0) * Speed;
	}
}

void AWsBridgeSampleAgent::OnError(EWsBridgeResult Result, const FString& Message)
{
	UE_LOG(LogTemp, Warning, TEXT("trainer connection failed: %s"), *Message);
}

void AWsBridgeSampleAgent::OnClosed(int32 Code, const FString& Reason)
{
	UE_LOG(LogTemp, Log, TEXT("trainer closed the connection: %d %s"), Code, *Reason);
	Velocity = FVector::ZeroVector;
}
