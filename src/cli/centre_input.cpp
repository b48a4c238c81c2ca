#include "cli/centre_input.hpp"

#include "core/error.hpp"
#include "io/frame.hpp"

namespace atomfp::cli {

CentreInput read_centre_input(const std::string& path, int64_t frame_index, int64_t centre, double cutoff) {
    std::vector<Frame> frames = read_extxyz(path);
    if (frame_index >= static_cast<int64_t>(frames.size())) {
        fail(Status::invalid_argument, "--frame ", frame_index, " but the file has ", frames.size(), " frame(s)");
    }
    CentreInput input;
    input.frame = std::move(frames[frame_index]);
    input.frame_index = frame_index;
    input.center = centre;
    const Frame& frame = input.frame;
    if (centre >= frame.size()) fail(Status::invalid_argument, "--centre ", centre, " but the frame has ", frame.size(), " atoms");
    input.list = neighbours_of(frame, cutoff);
    return input;
}

}  // namespace atomfp::cli
