// Data directory lock (see dir_lock.h).
#include "durability/dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

namespace surge::durability {

Result<std::unique_ptr<DirLock>> DirLock::Acquire(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status(ErrorCode::kIoError, "cannot create data directory " + dir + ": " + ec.message());
    const std::string path = dir + "/LOCK";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Status(ErrorCode::kIoError, "cannot open " + path + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        char buf[32] = {};
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        if (err == EWOULDBLOCK) {
            std::string holder = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "unknown";
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
            return Status(ErrorCode::kTransactionState,
                          "data directory " + dir + " is in use by another surged (pid " + holder + ")");
        }
        return Status(ErrorCode::kIoError, "cannot lock " + path + ": " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        const int err = errno;
        ::close(fd);
        return Status(ErrorCode::kIoError, "cannot write " + path + ": " + std::strerror(err));
    }
    return std::unique_ptr<DirLock>(new DirLock(fd));
}

DirLock::~DirLock() { ::close(fd_); }

}  // namespace surge::durability
