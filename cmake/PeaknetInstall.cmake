# `cmake --install` puts binaries, systemd units, configs and the operations guide in place:
#   <prefix>/bin/{peakctl,ingestd,inferd,writerd}, /etc/peaknet/*.json (+ peaknet.json, the file the
#   units read, created from node.json — the systemd node config — only when absent), <unit dir>/peaknet*.{service,target}
#   with ExecStart pointing at <prefix>/bin, <prefix>/share/doc/peaknet/OPERATIONS.md.
include(GNUInstallDirs)
# (The daemons and peakctl install their own executables from their CMakeLists.txt.)

set(PEAKNET_UNIT_DIR "lib/systemd/system" CACHE PATH "systemd unit directory (relative = under the prefix)")
install(DIRECTORY ${PEAKNET_SOURCE_DIR}/configs/ DESTINATION ${PEAKNET_CONFIG_DIR}
        FILES_MATCHING PATTERN "*.json")
install(CODE "
  set(cfg \"\$ENV{DESTDIR}${PEAKNET_CONFIG_DIR}/peaknet.json\")
  if(NOT EXISTS \"\${cfg}\")
    file(COPY_FILE \"${PEAKNET_SOURCE_DIR}/configs/node.json\" \"\${cfg}\")
    message(STATUS \"Installing: \${cfg} (from node.json; edit it for this beamline)\")
  endif()")

# Units: the sources name /usr/local/bin; point them at this prefix.
file(GLOB peaknet_units ${PEAKNET_SOURCE_DIR}/systemd/*.service ${PEAKNET_SOURCE_DIR}/systemd/*.target)
foreach(unit ${peaknet_units})
  get_filename_component(unit_name ${unit} NAME)
  file(READ ${unit} unit_text)
  string(REPLACE "/usr/local/bin/" "${CMAKE_INSTALL_FULL_BINDIR}/" unit_text "${unit_text}")
  string(REPLACE "/etc/peaknet/" "${PEAKNET_CONFIG_DIR}/" unit_text "${unit_text}")
  file(WRITE ${PROJECT_BINARY_DIR}/systemd/${unit_name} "${unit_text}")
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit_name} DESTINATION ${PEAKNET_UNIT_DIR})
endforeach()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${peaknet_units})

install(FILES ${PEAKNET_SOURCE_DIR}/docs/OPERATIONS.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/peaknet OPTIONAL)
