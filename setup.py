"""Builds the extension lorank._lorank with the project's own CMake (no scikit-build: it is
not in Debian 12). The version comes from CMakeLists.txt's project() line."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


def version():
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(lorank VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    """Configures ROOT with the Python module on (tests and benchmarks off), builds the
    target _lorank, and copies it into the package being built."""

    def build_extension(self, ext):
        build = pathlib.Path(self.build_temp).resolve() / "cmake"
        build.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
            "-DLORANK_BUILD_TESTS=OFF", "-DLORANK_BUILD_BENCH=OFF", "-DLORANK_BUILD_PYTHON=ON",
            f"-DPython3_EXECUTABLE={sys.executable}",
        ]
        try:  # pybind11's CMake config: the pip package's, else the system's (pybind11-dev)
            import pybind11
            configure.append(f"-Dpybind11_DIR={pybind11.get_cmake_dir()}")
        except ImportError:
            pass
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        if shutil.which("ccache"):
            configure.append("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
        configure += os.environ.get("LORANK_CMAKE_ARGS", "").split()
        subprocess.check_call(configure)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        subprocess.check_call(["cmake", "--build", str(build), "--target", "_lorank", "-j", jobs])
        built = next((build / "python" / "lorank").glob("_lorank*.so"))
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built, target)


setup(
    version=version(),
    ext_modules=[Extension("lorank._lorank", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    zip_safe=False,
)
