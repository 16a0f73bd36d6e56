# Installation layout and the Debian package (CPack DEB). Included at the end of the root
# CMakeLists.txt.
#
#   cmake --install build --prefix /usr      binary, config, rules, unit, man page
#   tools/package.sh                          builds build-package/aurelay_<version>_<arch>.deb
#
# Files under /etc are installed at absolute paths whatever the prefix (they are conffiles).

include(GNUInstallDirs)

# Generator of the documents derived from the option table (tools/generate_docs.sh).
add_executable(aurelay_docgen ${PROJECT_SOURCE_DIR}/tools/aurelay_docgen.cpp)
target_link_libraries(aurelay_docgen PRIVATE aurelay_collector)

set(AURELAY_SYSCONF_DIR "/etc/aurelay" CACHE PATH "Where aurelay.conf and audit.rules go")

install(TARGETS aurelay RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/collector/aurelay.conf
  DESTINATION ${AURELAY_SYSCONF_DIR}
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/rules/example_audit.rules
  DESTINATION ${AURELAY_SYSCONF_DIR} RENAME audit.rules
  PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/rules/example_audit.rules
  DESTINATION ${CMAKE_INSTALL_DATADIR}/aurelay)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/aurelay.service
  DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/aurelay.tmpfiles
  DESTINATION lib/tmpfiles.d RENAME aurelay.conf)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/aurelay.sysusers
  DESTINATION lib/sysusers.d RENAME aurelay.conf)
install(FILES ${PROJECT_SOURCE_DIR}/collector/aurelay.8
  DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

# ---- Debian package
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "aurelay")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "aurelay maintainers <aurelay@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Linux audit collector shipping events to MozDef")
set(CPACK_PACKAGE_DESCRIPTION
  "aurelay reads kernel audit records over netlink (or beside auditd, or as an auditd plugin), \
groups them into events and sends each as a MozDef JSON document over HTTP(S), to a file or to \
stdout, with a disk spool so none are lost. It replaces auditd + audisp-json.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libc6 (>= 2.36), libstdc++6 (>= 12), libmnl0 (>= 1.0.4), libaudit1 (>= 1:3.0), \
libauparse0 (>= 1:3.0), libcurl4 (>= 7.88), libcap-ng0 (>= 0.8), libsystemd0, libspdlog1.10, libfmt9, adduser | systemd")
# auditctl loads the rules; the auditd daemon itself must not run beside aurelay's netlink input.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "auditd")
set(CPACK_DEBIAN_PACKAGE_CONFLICTS "")
set(AURELAY_DEBIAN_DIR ${CMAKE_BINARY_DIR}/debian-control)
file(MAKE_DIRECTORY ${AURELAY_DEBIAN_DIR})
file(WRITE ${AURELAY_DEBIAN_DIR}/conffiles
  "${AURELAY_SYSCONF_DIR}/aurelay.conf\n${AURELAY_SYSCONF_DIR}/audit.rules\n")
file(WRITE ${AURELAY_DEBIAN_DIR}/postinst [=[#!/bin/sh
# Creates the aurelay user and its directories. Does not enable or start the service: it
# conflicts with auditd (only one audit daemon per host); run `systemctl enable --now aurelay`.
set -e
if [ "$1" = configure ]; then
  if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers /usr/lib/sysusers.d/aurelay.conf
  elif ! getent passwd aurelay >/dev/null; then
    adduser --system --group --home /var/lib/aurelay --no-create-home aurelay
  fi
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/aurelay.conf || true
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
  fi
fi
exit 0
]=])
file(WRITE ${AURELAY_DEBIAN_DIR}/prerm [=[#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop aurelay.service || true
fi
exit 0
]=])
file(WRITE ${AURELAY_DEBIAN_DIR}/postrm [=[#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
exit 0
]=])
file(CHMOD ${AURELAY_DEBIAN_DIR}/postinst ${AURELAY_DEBIAN_DIR}/prerm ${AURELAY_DEBIAN_DIR}/postrm
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ
  WORLD_EXECUTE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${AURELAY_DEBIAN_DIR}/conffiles;${AURELAY_DEBIAN_DIR}/postinst;${AURELAY_DEBIAN_DIR}/prerm;${AURELAY_DEBIAN_DIR}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
