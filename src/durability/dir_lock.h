// An exclusive lock on a data directory (flock on DATA/LOCK), so that two servers never write the
// same command log. Released when the object goes away or the process dies.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"

namespace surge::durability {

class DirLock {
  public:
    /// Creates dir if needed and locks it; kTransactionState naming the holder's pid when another
    /// process holds it.
    static Result<std::unique_ptr<DirLock>> Acquire(const std::string& dir);
    ~DirLock();
    DirLock(const DirLock&) = delete;
    DirLock& operator=(const DirLock&) = delete;

  private:
    explicit DirLock(int fd) : fd_(fd) {}
    int fd_;
};

}  // namespace surge::durability
