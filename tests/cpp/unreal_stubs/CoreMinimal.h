// Stand-ins for the few Unreal Engine declarations the WsBridge plugin uses, so that g++ can
// check the plugin's C++ (`g++ -fsyntax-only`, tests/cpp/test_unreal_syntax.py). They declare
// just enough with the engine's names and signatures; nothing here runs. The reflection macros
// (UCLASS, UPROPERTY, ...) expand to nothing, as they do for the C++ compiler in a real build
// (the Unreal Header Tool reads them; the .generated.h files are empty here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#define UCLASS(...)
#define USTRUCT(...)
#define UENUM(...)
#define UPROPERTY(...)
#define UFUNCTION(...)
#define UPARAM(...)
#define GENERATED_BODY()
#define WSBRIDGE_API
#define WSBRIDGESAMPLE_API
#define TEXT(x) L##x
#define THIRD_PARTY_INCLUDES_START
#define THIRD_PARTY_INCLUDES_END
#define DECLARE_LOG_CATEGORY_EXTERN(Name, Verbosity, Compile) struct FLogCategory##Name {}; extern FLogCategory##Name Name
#define UE_LOG(Category, Verbosity, Format, ...) ((void)(Category), (void)(Format))

using int32 = std::int32_t;
using int64 = std::int64_t;
using uint8 = std::uint8_t;
using uint32 = std::uint32_t;
using uint64 = std::uint64_t;
using TCHAR = wchar_t;
using ANSICHAR = char;
using UTF8CHAR = unsigned char;

template <class T> struct TArray {
    TArray() = default;
    TArray(std::initializer_list<T>) {}
    T* GetData() const { return nullptr; }
    int32 Num() const { return 0; }
    void Append(const T*, int32) {}
    void Reset() {}
    T& operator[](int32) const { static T t; return t; }
    T* begin() const { return nullptr; }
    T* end() const { return nullptr; }
    int32 Add(const T&) { return 0; }
    int32 Remove(const T&) { return 0; }
    bool Contains(const T&) const { return false; }
    void SetNumZeroed(int32) {}
    void SetNumUninitialized(int32) {}
    void Reserve(int32) {}
    void Empty() {}
};

class FString {
public:
    FString() = default;
    FString(const TCHAR*) {}
    const TCHAR* operator*() const { return L""; }
    bool IsEmpty() const { return true; }
    void Reset() {}
    void AppendChars(const TCHAR*, int32) {}
    template <class... A> static FString Printf(const TCHAR*, A...) { return FString(); }
    friend FString operator+(const TCHAR*, const FString&) { return FString(); }
    friend FString operator+(const FString&, const FString&) { return FString(); }
};

template <class K, class V> struct TPair { K Key; V Value; };
template <class K, class V> struct TMap {
    const TPair<K, V>* begin() const { return nullptr; }
    const TPair<K, V>* end() const { return nullptr; }
};

struct FUTF8ToTCHAR {
    FUTF8ToTCHAR(const ANSICHAR*, int32) {}
    const TCHAR* Get() const { return L""; }
    int32 Length() const { return 0; }
};
struct FTCHARToUTF8 {
    explicit FTCHARToUTF8(const TCHAR*) {}
    const ANSICHAR* Get() const { return ""; }
    int32 Length() const { return 0; }
};

template <class T> class TObjectPtr {
public:
    TObjectPtr() = default;
    TObjectPtr(T* p) : Ptr(p) {}
    TObjectPtr(std::nullptr_t) {}
    T* operator->() const { return Ptr; }
    operator T*() const { return Ptr; }
    explicit operator bool() const { return Ptr != nullptr; }
private:
    T* Ptr = nullptr;
};

enum EObjectFlags { RF_ClassDefaultObject = 0x10 };

class UObject {
public:
    virtual ~UObject() = default;
    virtual void BeginDestroy() {}
    bool HasAnyFlags(EObjectFlags) const { return false; }
    class UWorld* GetWorld() const { return nullptr; }
};

inline bool IsValid(const UObject*) { return true; }

template <class T> T* NewObject(UObject*, const TCHAR*) { return nullptr; }

struct FName { FName(const TCHAR*) {} };

// Dynamic multicast delegates: Broadcast and AddDynamic with the engine's call shapes.
template <class... A> struct TDynamicMulticastStub {
    void Broadcast(A...) const {}
    template <class U, class F> void AddDynamic(U*, F) {}
    template <class U, class F> void RemoveDynamic(U*, F) {}
};
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE(Name) struct Name : TDynamicMulticastStub<> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_OneParam(Name, T1, N1) struct Name : TDynamicMulticastStub<T1> {}
#define DECLARE_DYNAMIC_MULTICAST_DELEGATE_TwoParams(Name, T1, N1, T2, N2) struct Name : TDynamicMulticastStub<T1, T2> {}

struct FLogCategoryLogTemp {};
extern FLogCategoryLogTemp LogTemp;

struct FVector {
    double X = 0, Y = 0, Z = 0;
    FVector() = default;
    FVector(double x, double y, double z) : X(x), Y(y), Z(z) {}
    static const FVector ZeroVector;
    FVector operator*(double) const { return *this; }
    FVector operator+(const FVector&) const { return *this; }
    double Size() const { return 0; }
};

template <class T> struct TSharedPtr {
    T* operator->() const { return nullptr; }
    bool IsValid() const { return false; }
};
template <class T> struct TSharedRef {
    T* operator->() const { return nullptr; }
};
