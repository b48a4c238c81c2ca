#include "cli/arguments.hpp"

#include "core/error.hpp"
#include "io/input_file.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace atomfp::cli {

std::string read_text_file(const std::string& path) {
    std::ifstream in = open_input_file(path, "input file");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

Arguments::Arguments(int argc, char** argv, const std::set<std::string>& with_value, const std::set<std::string>& flags) {
    for (int i = 0; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg.size() > 1 && arg[0] == '-') {
            std::string name = arg, inline_value;
            bool has_inline = false;
            if (auto eq = arg.find('='); eq != std::string::npos && arg.rfind("--", 0) == 0) {
                name = arg.substr(0, eq);
                inline_value = arg.substr(eq + 1);
                has_inline = true;
            }
            if (with_value.count(name)) {
                if (has_inline) {
                    values_[name].push_back(inline_value);
                } else {
                    if (i + 1 >= argc) fail(Status::invalid_argument, "option ", name, " needs a value");
                    values_[name].push_back(argv[++i]);
                }
            } else if (flags.count(name) && !has_inline) {
                flags_.insert(name);
            } else {
                fail(Status::invalid_argument, "unknown option '", arg, "' (see --help)");
            }
        } else {
            positional_.push_back(arg);
        }
    }
}

std::string Arguments::value(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second.back();
}

std::vector<std::string> Arguments::values(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
}

// No structure has more atoms than this; a longer range is a typing mistake.
constexpr int64_t max_index_range = 100000000;

std::vector<int64_t> parse_index_list(const std::string& text) {
    std::vector<int64_t> out;
    std::istringstream stream(text);
    std::string item;
    auto number = [&](const std::string& s) {
        char* end = nullptr;
        long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0' || v < 0) fail(Status::invalid_argument, "'", s, "' in --centers is not an atom index");
        return static_cast<int64_t>(v);
    };
    while (std::getline(stream, item, ',')) {
        auto dash = item.find('-');
        if (dash == std::string::npos) {
            out.push_back(number(item));
        } else {
            int64_t first = number(item.substr(0, dash)), last = number(item.substr(dash + 1));
            if (last < first) fail(Status::invalid_argument, "range '", item, "' in --centers is empty");
            if (last - first >= max_index_range) {
                fail(Status::invalid_argument, "range '", item, "' in --centers has more than ", max_index_range, " atoms");
            }
            for (int64_t i = first; i <= last; ++i) out.push_back(i);
        }
    }
    if (out.empty()) fail(Status::invalid_argument, "--centers lists no atoms");
    return out;
}

std::vector<double> parse_number_list(const std::string& text, const std::string& option) {
    std::vector<double> out;
    std::stringstream stream(text);
    std::string item;
    while (std::getline(stream, item, ',')) {
        char* end = nullptr;
        out.push_back(std::strtod(item.c_str(), &end));
        if (item.empty() || *end != '\0' || !std::isfinite(out.back())) {
            fail(Status::invalid_argument, option, " '", text, "' is not a list of numbers");
        }
    }
    if (out.empty()) fail(Status::invalid_argument, option, " needs at least one value");
    return out;
}

double number_option(const Arguments& args, const std::string& option, double fallback) {
    if (!args.has(option)) return fallback;
    const std::vector<double> value = parse_number_list(args.value(option), option);
    if (value.size() != 1) fail(Status::invalid_argument, option, " '", args.value(option), "' is not a number");
    return value[0];
}

std::string file_stem(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

}  // namespace atomfp::cli
