# Install rules and the Debian package (CPack).
#   cmake --install build [--prefix /usr]     the two programs (presets compiled in), the desktop
#                                              entry, the icons and the README, in the usual places
#   cpack --config build/CPackConfig.cmake     build/hybrid158_<version>_amd64.deb
# A package should come from a portable build (-DH158_NATIVE=OFF): plain x86-64 code, the
# integer kernels still picking AVX-512 VNNI or AVX2 at run time (scripts/package-test.sh).
include(GNUInstallDirs)

install(TARGETS hybrid158-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(TARGET hybrid158)
  install(TARGETS hybrid158 RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/resources/hybrid158.desktop
          DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  foreach(size 32 64 256)
    install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/hybrid158-${size}.png
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
            RENAME hybrid158.png)
  endforeach()
  install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/hybrid158.svg
          DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
endif()
# The presets are compiled into both programs (--preset NAME), so no preset files are installed.
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME hybrid158)
set(CPACK_PACKAGE_VENDOR "hybrid158")
set(CPACK_PACKAGE_CONTACT "hybrid158 developers <hybrid158@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Workbench for 1.58-bit (ternary) training")
set(CPACK_PACKAGE_DESCRIPTION
    "A Qt workbench and a command-line tool to explore ternary (BitNet b1.58) quantization-aware
training with K-Means clustering, an auxiliary network and trust-region updates, on 2-D data and
a tiny GPT.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
# The shared libraries the binaries link (Qt 6, QCustomPlot, libstdc++, ...) become Depends via
# dpkg-shlibdeps; Eigen, nlohmann-json and CLI11 are header-only and compiled in.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Qt loads its platform plugin (xcb) at run time: no library links it, so it is named here.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "qt6-qpa-plugins")
include(CPack)
