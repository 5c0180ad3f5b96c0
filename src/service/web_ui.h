// The service's web page at `/` (one page; every view reads the /api/v1 endpoints with the
// token the user signed in with, kept in sessionStorage).
#pragma once

#include <string>

namespace loadcell {

const std::string& WebUiPage();

}  // namespace loadcell
