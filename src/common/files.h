// File helpers shared by the command log, snapshots and export: whole writes, directory fsync, whole
// reads, with errors that name the component and the file.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace surge {

/// kIoError "<what>: <strerror(err)>".
Status IoError(const std::string& what, int err);
/// Writes all n bytes (retrying short writes and EINTR). who: "command log", "snapshot".
Status WriteAll(int fd, const char* data, size_t n, std::string_view who, const std::string& path);
/// fsync of a directory, so that files created or renamed in it survive a crash.
Status SyncDirectory(const std::string& dir, std::string_view who);
Result<std::string> ReadWholeFile(const std::string& path, std::string_view who);

}  // namespace surge
