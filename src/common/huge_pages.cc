#include "common/huge_pages.h"

#include <sys/mman.h>

#include <atomic>
#include <cstdint>

namespace surge {
namespace {

std::atomic<bool> g_huge_pages{true};

size_t RoundUp(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

}  // namespace

void SetHugePages(bool on) { g_huge_pages.store(on, std::memory_order_relaxed); }
bool HugePagesEnabled() { return g_huge_pages.load(std::memory_order_relaxed); }

void* MapLarge(size_t bytes) {
    const size_t size = RoundUp(bytes, 4096);
    // Map a huge page more than needed and trim both ends, so the block starts on a 2 MiB
    // boundary: only aligned 2 MiB ranges can be backed by a huge page.
    const size_t span = size + kHugePageBytes;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = RoundUp(start, kHugePageBytes);
    if (aligned > start) munmap(raw, aligned - start);
    const uintptr_t end = aligned + size;
    if (start + span > end) munmap(reinterpret_cast<void*>(end), start + span - end);
    void* p = reinterpret_cast<void*>(aligned);
    // Advice the kernel does not support (THP compiled out or "never") is ignored: the memory
    // is then ordinary pages.
    if (HugePagesEnabled()) madvise(p, size, MADV_HUGEPAGE);
    return p;
}

void UnmapLarge(void* p, size_t bytes) noexcept { munmap(p, RoundUp(bytes, 4096)); }

}  // namespace surge
