// Fixed-width values in byte strings, in the machine's (little-endian) order: the in-memory and
// on-disk record headers of export capture and spools.
#pragma once

#include <cstring>
#include <string>

namespace surge {

template <class T>
void PutRaw(std::string* out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out->append(b, sizeof(T));
}

template <class T>
T GetRaw(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

}  // namespace surge
