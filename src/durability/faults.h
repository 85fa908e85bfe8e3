// Fault injection at named points of the durability code, so that tests can make a write, an
// fsync or a snapshot file fail exactly where they want, with the real binary. Nothing is armed in
// normal operation; a disarmed point costs one relaxed atomic load.
//
// Points: cmdlog.write (write fails, EIO), cmdlog.fsync (fdatasync fails, EIO),
// cmdlog.short_write (half the bytes are written, then EIO), cmdlog.torn_exit (half of a write
// reaches the file, then the process exits at once, as a crash would), snapshot.write (a snapshot
// file's write fails), snapshot.fsync (its fsync fails), snapshot.corrupt (a chunk's bytes reach
// the file with a bit flipped after its checksum was taken: found when the snapshot is read),
// snapshot.stall (the snapshot writer stops for 2 s before a write, as a stalled disk would),
// snapshot.remove (removing a snapshot stops, failing, right after its MANIFEST is gone).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace surge::durability {

class Faults {
  public:
    /// The names of the fault points.
    static const std::vector<std::string>& Points();
    /// Arms `point` to fire on its nth hit (1 = the first), once.
    static Status Arm(std::string_view point, uint64_t nth = 1);
    /// Arms from "point[@N],point[@N]..." (surged reads SURGED_FAULTS).
    static Status ArmFromSpec(std::string_view spec);
    static void DisarmAll();
    /// Counts a hit of `point`; true when it fires now.
    static bool Fire(std::string_view point);
};

}  // namespace surge::durability
