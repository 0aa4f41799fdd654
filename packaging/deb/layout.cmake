# Run by cpack (CPACK_PRE_BUILD_SCRIPTS) on each package's staging tree, before the .debs are
# made: what `cmake --install` does not do, and Debian's packaging does. A plain cmake --install
# keeps its prefix-relative layout (etc/xxgk under the prefix, man pages as they are).
foreach(component IN ITEMS daemon lib dev)
  string(TOUPPER ${component} upper)
  set(package ${CPACK_DEBIAN_${upper}_PACKAGE_NAME})
  set(root ${CPACK_TEMPORARY_DIRECTORY}/${component})
  if(NOT IS_DIRECTORY ${root})
    message(FATAL_ERROR "layout.cmake: no staging tree for ${component} at ${root}")
  endif()
  # the configuration is in /etc, not under the prefix (Debian policy 10.7.2: no /usr/etc)
  if(IS_DIRECTORY ${root}${CPACK_PACKAGING_INSTALL_PREFIX}/etc)
    file(RENAME ${root}${CPACK_PACKAGING_INSTALL_PREFIX}/etc ${root}/etc)
  endif()
  # man pages compressed, reproducibly (no name or time in the gzip header)
  file(GLOB_RECURSE pages ${root}${CPACK_PACKAGING_INSTALL_PREFIX}/share/man/*)
  foreach(page IN LISTS pages)
    if(NOT page MATCHES "\\.gz$")
      execute_process(COMMAND gzip -9nf ${page} COMMAND_ERROR_IS_FATAL ANY)
    endif()
  endforeach()
  # every package has its copyright and changelog (a native package's changelog.gz)
  set(doc ${root}${CPACK_PACKAGING_INSTALL_PREFIX}/share/doc/${package})
  file(MAKE_DIRECTORY ${doc})
  file(COPY_FILE ${CPACK_XXGK_DEB_DIR}/copyright ${doc}/copyright)
  file(COPY_FILE ${CPACK_XXGK_DEB_DIR}/changelog ${doc}/changelog)
  execute_process(COMMAND gzip -9nf ${doc}/changelog COMMAND_ERROR_IS_FATAL ANY)
  # libxxgk.pc names the prefix the package installs to, whatever the build's was
  file(GLOB_RECURSE pcs ${root}/*.pc)
  foreach(pc IN LISTS pcs)
    file(READ ${pc} text)
    string(REGEX REPLACE "(^|\n)prefix=[^\n]*" "\\1prefix=${CPACK_PACKAGING_INSTALL_PREFIX}"
                         text "${text}")
    file(WRITE ${pc} "${text}")
  endforeach()
endforeach()

# the changelog's newest entry is the version being packaged
file(STRINGS ${CPACK_XXGK_DEB_DIR}/changelog first LIMIT_COUNT 1)
if(NOT first MATCHES "^xxgk \\(${CPACK_PACKAGE_VERSION}\\) ")
  message(FATAL_ERROR "layout.cmake: packaging/deb/changelog's first entry is not version "
                      "${CPACK_PACKAGE_VERSION}: add one")
endif()
