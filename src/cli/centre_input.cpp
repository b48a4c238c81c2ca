#include "cli/centre_input.hpp"

#include "core/error.hpp"
#include "io/frame.hpp"

namespace atomfp::cli {

CentreInput read_centre_input(const Arguments& args, double cutoff) {
    const std::vector<int64_t> center = parse_index_list(args.value("--center"));
    const std::vector<int64_t> frame_index = parse_index_list(args.value("--frame", "0"));
    if (center.size() != 1 || frame_index.size() != 1) fail(Status::invalid_argument, "--center and --frame take one index each");
    std::vector<Frame> frames = read_extxyz(args.positional().at(0));
    if (frame_index[0] >= static_cast<int64_t>(frames.size())) {
        fail(Status::invalid_argument, "--frame ", frame_index[0], " but the file has ", frames.size(), " frame(s)");
    }
    CentreInput input;
    input.frame = std::move(frames[frame_index[0]]);
    input.frame_index = frame_index[0];
    input.center = center[0];
    const Frame& frame = input.frame;
    if (input.center >= frame.size()) fail(Status::invalid_argument, "--center ", input.center, " but the frame has ", frame.size(), " atoms");
    input.list = neighbours_of(frame, cutoff);
    return input;
}

}  // namespace atomfp::cli
