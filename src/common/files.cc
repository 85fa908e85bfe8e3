// File helpers (see files.h).
#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace surge {

Status IoError(const std::string& what, int err) {
    return Status(ErrorCode::kIoError, what + ": " + std::strerror(err));
}

Status WriteAll(int fd, const char* data, size_t n, std::string_view who, const std::string& path) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return IoError(std::string(who) + ": write to " + path + " failed", errno);
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
    return Status::Ok();
}

Status SyncDirectory(const std::string& dir, std::string_view who) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return IoError(std::string(who) + ": cannot open directory " + dir, errno);
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return IoError(std::string(who) + ": fsync of directory " + dir + " failed", err);
    return Status::Ok();
}

Result<std::string> ReadWholeFile(const std::string& path, std::string_view who) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return IoError(std::string(who) + ": cannot open " + path, errno);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return Status(ErrorCode::kIoError, std::string(who) + ": cannot read " + path);
    return data;
}

}  // namespace surge
