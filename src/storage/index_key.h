// IndexKey: an encoded (memcomparable) index key as index containers store it. Keys of up to
// kInline bytes (a BIGINT key is 9; two integers plus a tuple-address suffix fit) live inside the
// key itself, so B-tree nodes and hash slots hold them without an allocation or a pointer to
// chase; longer keys go to the heap.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include <absl/types/compare.h>

#include "common/hash.h"

namespace surge::storage {

class IndexKey {
  public:
    static constexpr size_t kInline = 23;

    IndexKey() { set_tag(0); }
    explicit IndexKey(std::string_view s) { Assign(s); }
    IndexKey(const IndexKey& o) { Assign(o.view()); }
    IndexKey(IndexKey&& o) noexcept {
        std::memcpy(static_cast<void*>(this), &o, sizeof(IndexKey));
        o.set_tag(0);
    }
    IndexKey& operator=(const IndexKey& o) {
        if (this != &o) {
            Release();
            Assign(o.view());
        }
        return *this;
    }
    IndexKey& operator=(IndexKey&& o) noexcept {
        if (this != &o) {
            Release();
            std::memcpy(static_cast<void*>(this), &o, sizeof(IndexKey));
            o.set_tag(0);
        }
        return *this;
    }
    ~IndexKey() { Release(); }

    std::string_view view() const {
        return tag() == kHeap ? std::string_view(heap_data(), heap_size()) : std::string_view(bytes_, tag());
    }
    size_t size() const { return tag() == kHeap ? heap_size() : tag(); }
    /// Heap bytes this key owns (0 when inline).
    size_t heap_bytes() const { return tag() == kHeap ? heap_size() : 0; }

  private:
    // bytes_[0..22] hold an inline key and bytes_[23] its size; a heap key keeps its pointer in
    // bytes_[0..7], its size in bytes_[8..11] and kHeap in bytes_[23].
    static constexpr uint8_t kHeap = 0xFF;
    uint8_t tag() const { return static_cast<uint8_t>(bytes_[kInline]); }
    void set_tag(uint8_t t) { bytes_[kInline] = static_cast<char>(t); }
    char* heap_data() const {
        char* p;
        std::memcpy(&p, bytes_, sizeof(p));
        return p;
    }
    uint32_t heap_size() const {
        uint32_t n;
        std::memcpy(&n, bytes_ + sizeof(char*), sizeof(n));
        return n;
    }

    void Assign(std::string_view s) {
        if (s.size() <= kInline) {
            std::memcpy(bytes_, s.data(), s.size());
            set_tag(static_cast<uint8_t>(s.size()));
        } else {
            char* p = new char[s.size()];
            std::memcpy(p, s.data(), s.size());
            auto n = static_cast<uint32_t>(s.size());
            std::memcpy(bytes_, &p, sizeof(p));
            std::memcpy(bytes_ + sizeof(p), &n, sizeof(n));
            set_tag(kHeap);
        }
    }
    void Release() {
        if (tag() == kHeap) delete[] heap_data();
        set_tag(0);
    }

    alignas(8) char bytes_[kInline + 1];
};
static_assert(sizeof(IndexKey) == 24);

/// Byte-wise order (memcmp, unsigned), transparent over std::string_view lookups.
/// Byte-wise three-way comparison of encoded keys (a shorter key that is a prefix of a longer
/// one sorts first), eight bytes at a time: keys are short, and a call to memcmp per comparison
/// cost more than the comparison.
inline int CompareKeys(std::string_view a, std::string_view b) {
    const size_t n = a.size() < b.size() ? a.size() : b.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        std::memcpy(&x, a.data() + i, 8);
        std::memcpy(&y, b.data() + i, 8);
        if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
    }
    for (; i < n; ++i) {
        const auto x = static_cast<uint8_t>(a[i]), y = static_cast<uint8_t>(b[i]);
        if (x != y) return x < y ? -1 : 1;
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

/// The B-tree's comparator. It is three-way (returns absl::weak_ordering), so a lookup compares
/// each key it passes once instead of twice.
struct IndexKeyLess {
    using is_transparent = void;
    static std::string_view V(const IndexKey& k) { return k.view(); }
    static std::string_view V(std::string_view s) { return s; }
    template <class A, class B>
    absl::weak_ordering operator()(const A& a, const B& b) const {
        const int c = CompareKeys(V(a), V(b));
        return c < 0 ? absl::weak_ordering::less
                     : (c > 0 ? absl::weak_ordering::greater : absl::weak_ordering::equivalent);
    }
};

struct IndexKeyHash {
    using is_transparent = void;
    size_t operator()(const IndexKey& k) const { return Hash64(k.view()); }
    size_t operator()(std::string_view s) const { return Hash64(s); }
};

struct IndexKeyEq {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
        return IndexKeyLess::V(a) == IndexKeyLess::V(b);
    }
};

}  // namespace surge::storage
