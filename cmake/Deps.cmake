# Find every dependency through pkg-config.  When one is missing, stop with
# the Debian package that provides it (scripts/install-deps.sh installs all).
find_package(PkgConfig)
if(NOT PKG_CONFIG_FOUND)
  message(FATAL_ERROR "pkg-config not found: apt-get install pkg-config "
                      "(or run scripts/install-deps.sh)")
endif()

# cg_require(<prefix> <pkg-config module> <debian package>)
function(cg_require prefix module debpkg)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "missing dependency '${module}': install the Debian "
                        "package ${debpkg} (apt-get install ${debpkg}, or run "
                        "scripts/install-deps.sh)")
  endif()
endfunction()

cg_require(ZLIB    zlib        zlib1g-dev)
cg_require(FFTW3   fftw3       libfftw3-dev)
cg_require(PNG     libpng      libpng-dev)
cg_require(CAIRO   cairo       libcairo2-dev)
cg_require(YAML    yaml-0.1    libyaml-dev)
cg_require(XML2    libxml-2.0  libxml2-dev)
cg_require(LAPACKE lapacke     liblapacke-dev)
cg_require(OPENBLAS openblas   libopenblas-dev)
cg_require(JANSSON jansson     libjansson-dev)
cg_require(OPENSSL libcrypto   libssl-dev)
cg_require(SQLITE3 sqlite3     libsqlite3-dev)

find_package(Threads REQUIRED)

# Fonts for plot text: cairo's toy font API resolves "DejaVu Sans" through
# fontconfig; without the font files, text falls back to whatever exists.
if(NOT EXISTS /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf)
  message(WARNING "fonts-dejavu-core is not installed: plot text will use a "
                  "fallback font (apt-get install fonts-dejavu-core)")
endif()
