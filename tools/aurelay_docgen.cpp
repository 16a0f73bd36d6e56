// Writes the documents generated from the option table: `aurelay_docgen config` prints the
// shipped aurelay.conf, `aurelay_docgen man` the aurelay(8) man page, `aurelay_docgen fields`
// the field reference docs/mozdef-fields.md. Used by
// tools/generate_docs.sh (aurelay --dump-config / --dump-man print the same).
#include <cstdio>
#include <string>
#include <string_view>

#include "collector/config/config.h"
#include "mozdef/details.h"

int main(int argc, char** argv) {
  const std::string_view what = argc == 2 ? argv[1] : "";
  std::string text;
  if (what == "config") {
    text = aurelay::collector::render_config_file();
  } else if (what == "man") {
    text = aurelay::collector::render_man_page();
  } else if (what == "fields") {
    text = aurelay::mozdef::render_field_reference();
  } else {
    std::fputs("usage: aurelay_docgen config|man|fields\n", stderr);
    return 2;
  }
  std::fwrite(text.data(), 1, text.size(), stdout);
  return 0;
}
