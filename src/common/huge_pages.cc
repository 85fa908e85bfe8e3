#include "common/huge_pages.h"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>

namespace surge {
namespace {

std::atomic<bool> g_huge_pages{true};

size_t RoundUp(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

constexpr size_t kSmallPageBytes = 4096;

// The innermost live ScopedLargeHandOff of this thread.
thread_local ScopedLargeHandOff* t_hand_off = nullptr;

// A new mapping (MapLarge without the hand-off).
void* MapFresh(size_t bytes) {
    const size_t size = RoundUp(bytes, kSmallPageBytes);
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

}  // namespace

void SetHugePages(bool on) { g_huge_pages.store(on, std::memory_order_relaxed); }
bool HugePagesEnabled() { return g_huge_pages.load(std::memory_order_relaxed); }

void* MapLarge(size_t bytes) {
    if (ScopedLargeHandOff* h = t_hand_off; h && !h->reservation_->empty()) {
        if (void* p = h->reservation_->Take(bytes)) {
            h->taken_ = true;
            return p;
        }
    }
    return MapFresh(bytes);
}

void UnmapLarge(void* p, size_t bytes) noexcept { munmap(p, RoundUp(bytes, kSmallPageBytes)); }

LargeReservation::LargeReservation(LargeReservation&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      touched_(std::exchange(other.touched_, 0)) {}

LargeReservation& LargeReservation::operator=(LargeReservation&& other) noexcept {
    if (this != &other) {
        Release();
        base_ = std::exchange(other.base_, nullptr);
        bytes_ = std::exchange(other.bytes_, 0);
        touched_ = std::exchange(other.touched_, 0);
    }
    return *this;
}

void LargeReservation::Map(size_t bytes) {
    Release();
    // Never another reservation's memory, even inside a hand-off.
    base_ = static_cast<char*>(MapFresh(bytes));
    bytes_ = RoundUp(bytes, kSmallPageBytes);
}

bool LargeReservation::TouchNext() {
    if (touched_ == parts()) return false;
    const size_t begin = touched_ * kHugePageBytes;
    const size_t end = std::min(bytes_, begin + kHugePageBytes);
    // A write fault maps the page (a whole huge page where one backs it: the later writes are
    // then plain stores); the memory stays zero.
    for (size_t off = begin; off < end; off += kSmallPageBytes) static_cast<volatile char*>(base_)[off] = 0;
    ++touched_;
    return true;
}

void LargeReservation::Release() noexcept {
    if (base_) UnmapLarge(base_, bytes_);
    base_ = nullptr;
    bytes_ = 0;
    touched_ = 0;
}

void* LargeReservation::Take(size_t bytes) noexcept {
    const size_t size = RoundUp(bytes, kSmallPageBytes);
    if (size > bytes_) {
        Release();
        return nullptr;
    }
    if (size < bytes_) munmap(base_ + size, bytes_ - size);  // UnmapLarge(p, bytes) frees size bytes
    void* p = base_;
    base_ = nullptr;
    bytes_ = 0;
    touched_ = 0;
    return p;
}

ScopedLargeHandOff::ScopedLargeHandOff(LargeReservation* reservation) : reservation_(reservation), outer_(t_hand_off) {
    t_hand_off = this;
}

ScopedLargeHandOff::~ScopedLargeHandOff() { t_hand_off = outer_; }

}  // namespace surge
