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
