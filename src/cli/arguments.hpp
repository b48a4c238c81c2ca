// A small getopt-like parser: long options with values, flags, and positional arguments.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace atomfp::cli {

class Arguments {
public:
    // `with_value` lists options that take a value ("-o" aliases are given as separate names).
    Arguments(int argc, char** argv, const std::set<std::string>& with_value, const std::set<std::string>& flags);

    bool flag(const std::string& name) const { return flags_.count(name) > 0; }
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    // The last value given for `name`, or `fallback`.
    std::string value(const std::string& name, const std::string& fallback = "") const;
    // Every value given for a repeatable option, in order.
    std::vector<std::string> values(const std::string& name) const;
    const std::vector<std::string>& positional() const { return positional_; }

private:
    std::map<std::string, std::vector<std::string>> values_;
    std::set<std::string> flags_;
    std::vector<std::string> positional_;
};

// The whole file as text; throws Error(io) if it cannot be read.
std::string read_text_file(const std::string& path);

// "0,3-5" -> {0, 3, 4, 5}; throws Error(invalid_argument) for malformed lists.
std::vector<int64_t> parse_index_list(const std::string& text);

// "0.1,2,3e-4" -> {0.1, 2, 3e-4}, every entry finite; throws Error(invalid_argument) naming `option`.
std::vector<double> parse_number_list(const std::string& text, const std::string& option);

// The finite number given for `option`, or `fallback` when the option is absent.
double number_option(const Arguments& args, const std::string& option, double fallback);

// "dir/soap.json" -> "soap": names descriptors in tables and CSV columns.
std::string file_stem(const std::string& path);

}  // namespace atomfp::cli
