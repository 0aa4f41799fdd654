# cpack -G DEB: three Debian packages from one build, so that a department's system takes the
# library without the daemon.
#   xxgk         the daemon, the tools, the unit, conffiles in /etc/xxgk (component daemon)
#   libxxgk0     libxxgk.so.0 (component lib)
#   libxxgk-dev  xxgk.h, xxgk_error.h, xxgk.pb-c.h, libxxgk.so, libxxgk.pc (component dev)
# CPack rather than debian/ and dpkg-buildpackage: it packages the tree CI has just built and
# tested, in seconds, with nothing but dpkg-dev; what Debian's helpers would add (conffiles,
# /etc rather than /usr/etc, compressed man pages, the copyright and changelog in each doc dir,
# maintainer scripts) is done by layout.cmake and the control files beside it.
set(CPACK_GENERATOR DEB)
get_target_property(XXGK_SOVERSION xxgk_shared SOVERSION)
set(CPACK_PACKAGE_NAME xxgk)
set(CPACK_PACKAGE_VENDOR "xxgk developers")
set(XXGK_DEB_MAINTAINER "xxgk maintainers <maintainers@xxgk.example.org>"
    CACHE STRING "the Maintainer field of the .deb packages")
set(CPACK_PACKAGE_CONTACT "${XXGK_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL daemon lib dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Each package's own control files (conffiles, maintainer scripts, triggers) set the modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/layout.cmake)
# read by layout.cmake, which runs inside cpack
set(CPACK_XXGK_DEB_DIR ${CMAKE_CURRENT_LIST_DIR})

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME xxgk)
set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION admin)
# systemd: the postinst runs systemd-sysusers and systemd-tmpfiles, and xxgkd runs as its unit
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_LIST_DIR}/xxgk/conffiles ${CMAKE_CURRENT_LIST_DIR}/xxgk/postinst
    ${CMAKE_CURRENT_LIST_DIR}/xxgk/prerm ${CMAKE_CURRENT_LIST_DIR}/xxgk/postrm)
set(CPACK_DEBIAN_DAEMON_DESCRIPTION
    "live government information disclosure statistics
xxgkd takes the event records of a city's units (applications and their
answers, normative documents, administrative review and litigation cases,
tallies) over ZeroMQ, stores them in LMDB and keeps every cell of the
statutory annual report on government information disclosure
(政府信息公开工作年度报告) live, per unit and city-wide. xxgkctl queries
it and prints the report in the official layouts; xxgk-push sends ledgers
(JSON Lines, CSV).
.
The package creates the xxgk user and enables nothing: start xxgkd.service
once /etc/xxgk is configured.")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libxxgk${XXGK_SOVERSION})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# the shlibs file (only libxxgk0 has a shared library)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# a later 0.x.y keeps the ABI of libxxgk.so.0: what a program built against this one needs
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/libxxgk0/triggers)
set(CPACK_DEBIAN_LIB_DESCRIPTION
    "client library of xxgkd, live disclosure statistics
libxxgk is the C API a unit's case system links to push records to xxgkd
and query it: connect (with CurveZMQ keys), push, call, and a durable outbox
that keeps records in LMDB until the daemon has acknowledged them.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libxxgk-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# the headers include protobuf-c's; libxxgk.pc requires libprotobuf-c
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libxxgk${XXGK_SOVERSION} (= ${PROJECT_VERSION}), libprotobuf-c-dev")
set(CPACK_DEBIAN_DEV_DESCRIPTION
    "client library of xxgkd, live disclosure statistics - development files
The header xxgk.h (with xxgk_error.h, and xxgk.pb-c.h: the wire schema's
C structs made by protoc-c), libxxgk.so and libxxgk.pc, for building a
unit's system against libxxgk with pkg-config --cflags --libs libxxgk.")

include(CPack)
