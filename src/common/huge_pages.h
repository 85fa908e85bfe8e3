// Large, randomly accessed memory (hash index arrays, table blocks) backed by transparent huge
// pages. A hash index of millions of entries is probed at random keys: with 4 KiB pages almost
// every probe also misses the TLB, and filling the memory takes one page fault per 4 KiB. With
// 2 MiB pages both drop by a factor of 512 (docs/adr/0015-huge-pages.md).
//
// Allocations of at least kHugePageBytes are mapped directly (2 MiB aligned) and advised with
// MADV_HUGEPAGE, so this works on kernels whose THP mode is "madvise" as well as "always";
// smaller ones go to the ordinary allocator. SetHugePages(false) turns the advice off for
// mappings made afterwards (surged --huge-pages off).
#pragma once

#include <cstddef>
#include <new>

namespace surge {

inline constexpr size_t kHugePageBytes = size_t{2} << 20;

/// Process-wide switch, on by default. Set it before the data is loaded: existing mappings keep
/// the advice they were made with.
void SetHugePages(bool on);
bool HugePagesEnabled();

/// bytes >= kHugePageBytes: an anonymous mapping, zero-filled, 2 MiB aligned, advised for huge
/// pages when enabled. Throws std::bad_alloc when the kernel refuses.
void* MapLarge(size_t bytes);
/// Unmaps a MapLarge result of the same size.
void UnmapLarge(void* p, size_t bytes) noexcept;

/// Memory for a large allocation expected later (a hash index's next table), mapped ahead and
/// faulted in 2 MiB at a time at the owner's pace. The first touch of new memory is its cost
/// (zeroing, and in a virtual machine often the host backing it: ~3.4 ms per 2 MiB on the
/// reference VM), and a hash table's slots are written at random, so a table allocated when it
/// is needed faults all of its pages within a few hundred inserts. Touched ahead, the same cost
/// is spread over the inserts before it (ADR 0016). MapLarge takes the mapping while a
/// ScopedLargeHandOff names it on the same thread. Single-threaded; move-only.
class LargeReservation {
  public:
    LargeReservation() = default;
    LargeReservation(LargeReservation&& other) noexcept;
    LargeReservation& operator=(LargeReservation&& other) noexcept;
    ~LargeReservation() { Release(); }

    /// Maps bytes (rounded up to whole 4 KiB pages; as MapLarge, untouched), releasing any
    /// earlier mapping. Throws std::bad_alloc when the kernel refuses.
    void Map(size_t bytes);
    /// Faults in the next 2 MiB of the mapping (every 4 KiB page of it, so it works without huge
    /// pages too). False when every part has been.
    bool TouchNext();
    /// Unmaps what is held (nothing once MapLarge took it).
    void Release() noexcept;

    bool empty() const { return base_ == nullptr; }
    size_t bytes() const { return bytes_; }
    const void* data() const { return base_; }
    /// 2 MiB parts of the mapping (the last may be shorter), and how many are faulted in.
    size_t parts() const { return (bytes_ + kHugePageBytes - 1) / kHugePageBytes; }
    size_t touched_parts() const { return touched_; }

  private:
    friend void* MapLarge(size_t bytes);
    /// The mapping, trimmed to a request of bytes, when the request fits in it (null when not).
    /// Empty afterwards either way: a reservation the request outgrew is of no use.
    void* Take(size_t bytes) noexcept;

    char* base_ = nullptr;
    size_t bytes_ = 0;
    size_t touched_ = 0;
};

/// While alive, MapLarge calls on this thread are served from `reservation` when it is
/// non-empty and the request fits; taken() tells if one was.
class ScopedLargeHandOff {
  public:
    explicit ScopedLargeHandOff(LargeReservation* reservation);
    ~ScopedLargeHandOff();
    ScopedLargeHandOff(const ScopedLargeHandOff&) = delete;
    ScopedLargeHandOff& operator=(const ScopedLargeHandOff&) = delete;
    bool taken() const { return taken_; }

  private:
    friend void* MapLarge(size_t bytes);
    LargeReservation* reservation_;
    ScopedLargeHandOff* outer_;
    bool taken_ = false;
};

/// A standard allocator that serves requests of kHugePageBytes or more with MapLarge.
template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

    T* allocate(size_t n) {
        const size_t bytes = n * sizeof(T);
        if (bytes >= kHugePageBytes) return static_cast<T*>(MapLarge(bytes));
        return static_cast<T*>(::operator new (bytes, std::align_val_t{alignof(T)}));
    }
    void deallocate(T* p, size_t n) noexcept {
        const size_t bytes = n * sizeof(T);
        if (bytes >= kHugePageBytes) {
            UnmapLarge(p, bytes);
        } else {
            // The unsized form: clang declares sized deallocation only with -fsized-deallocation.
            ::operator delete (p, std::align_val_t{alignof(T)});
        }
    }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace surge
