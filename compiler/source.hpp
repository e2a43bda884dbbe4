#pragma once
// Source text and the diagnostics that point into it. Every error gradc reports about an input file
// is a CompileError carrying a byte offset; format_diagnostic turns it into
// `FILE:LINE:COL: error: MESSAGE`, the source line, and a caret under the column.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gradc {

struct LineColumn {
    std::size_t line;   // 1-based
    std::size_t column; // 1-based, in bytes
};

class SourceFile {
  public:
    SourceFile(std::string path, std::string text);
    // Reads a file; throws InputError (no position) when it cannot be read.
    static SourceFile load(const std::string& path);

    const std::string& path() const { return path_; }
    const std::string& text() const { return text_; }
    LineColumn locate(std::size_t offset) const;
    // The offsets [first, second) that locate() places on `line`.
    std::pair<std::size_t, std::size_t> offsets(std::size_t line) const;
    std::string_view line_text(std::size_t line) const; // without the newline

  private:
    std::string path_;
    std::string text_;
    std::vector<std::size_t> line_starts_;
};

// An error in an input file, at a byte offset of that file.
class CompileError : public std::runtime_error {
  public:
    CompileError(std::size_t offset, const std::string& message)
        : std::runtime_error(message), offset_(offset) {}
    std::size_t offset() const { return offset_; }

  private:
    std::size_t offset_;
};

// An error in the input that has no position (a missing file, bad data): exit status 1.
class InputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// `FILE:LINE:COL: error: MESSAGE\n  LINE TEXT\n  ^\n`
std::string format_diagnostic(const SourceFile& source, std::size_t offset,
                              std::string_view message);

} // namespace gradc
