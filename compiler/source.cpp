#include "compiler/source.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>

namespace gradc {

SourceFile::SourceFile(std::string path, std::string text)
    : path_(std::move(path)), text_(std::move(text)) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i)
        if (text_[i] == '\n') line_starts_.push_back(i + 1);
}

SourceFile SourceFile::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError(path + ": error: cannot open file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw InputError(path + ": error: cannot read file");
    return SourceFile(path, text.str());
}

LineColumn SourceFile::locate(std::size_t offset) const {
    offset = std::min(offset, text_.size());
    auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    std::size_t line = static_cast<std::size_t>(std::distance(line_starts_.begin(), next));
    return {line, offset - line_starts_[line - 1] + 1};
}

std::pair<std::size_t, std::size_t> SourceFile::offsets(std::size_t line) const {
    const std::size_t end =
        line < line_starts_.size() ? line_starts_[line] : std::numeric_limits<std::size_t>::max();
    return {line_starts_.at(line - 1), end}; // offsets past the text count as its last line
}

std::string_view SourceFile::line_text(std::size_t line) const {
    std::size_t begin = line_starts_.at(line - 1);
    std::size_t end = line < line_starts_.size() ? line_starts_[line] - 1 : text_.size();
    if (end > begin && text_[end - 1] == '\r') --end;
    return std::string_view(text_).substr(begin, end - begin);
}

std::string format_diagnostic(const SourceFile& source, std::size_t offset,
                              std::string_view message) {
    LineColumn at = source.locate(offset);
    std::string_view line = source.line_text(at.line);
    constexpr std::size_t shown = 200; // long lines are cut around the column
    std::size_t from = at.column > shown ? at.column - shown / 2 : 0;
    std::string quoted(line.substr(from, shown));
    std::string caret;
    for (std::size_t i = from; i + 1 < at.column && i < line.size(); ++i)
        caret += line[i] == '\t' ? '\t' : ' ';
    for (char& c : quoted) // keep the terminal sane when the input is binary
        if ((static_cast<unsigned char>(c) < 32 && c != '\t') || c == 127) c = '?';
    std::string out = source.path() + ":" + std::to_string(at.line) + ":" +
                      std::to_string(at.column) + ": error: " + std::string(message) + "\n";
    out += "  " + quoted + "\n  " + caret + "^\n";
    return out;
}

} // namespace gradc
