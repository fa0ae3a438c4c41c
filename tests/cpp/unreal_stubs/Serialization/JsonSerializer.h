#pragma once
#include "Dom/JsonObject.h"
#include "Serialization/JsonReader.h"
struct FJsonSerializer {
    template <class R> static bool Deserialize(const R&, TSharedPtr<FJsonObject>&) { return false; }
};
