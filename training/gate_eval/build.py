#!/usr/bin/env python3
"""Rebuild the OOD-gate PNGs (lateral / ct / mr / other_radiograph) from their public sources.

Sources are (a) public GitHub repositories, read from bare git mirrors at a pinned commit, and
(b) files shipped inside pip packages at a pinned version.  Every PNG written gets one row in
manifest.csv (file, category, source, commit/version, source path, licence, notes).

Usage:
    python build.py --mirror-root /work/.mirror --out /work/ood_data [--max-side 512]

--mirror-root must hold one bare git dir per repository at <root>/<owner>+<name>/repo
(the layout produced by the project's `fetch` tool; a plain `git clone --bare` into that
path works too).  pip packages are imported from the running interpreter, whose versions
must match those pinned below (a mismatch is reported, not fatal).

Requires: numpy pillow pydicom pylibjpeg pylibjpeg-openjpeg pylibjpeg-libjpeg pyjpegls
          nibabel zstandard pynrrd
"""
from __future__ import annotations

import argparse
import csv
import importlib
import io
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
from PIL import Image

warnings.filterwarnings("ignore")

# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------
NEMA_NOTE = ("original image from the NEMA DICOM WG04 compression test set "
             "(ftp://medical.nema.org/MEDICAL/Dicom/DataSets/WG04); NEMA gives no explicit "
             "licence, the set is redistributed as free test data by pydicom/dicom-rs")

SOURCES = {
    "pydicomdata": dict(kind="git", repo="pydicom/pydicom-data",
                        commit="b0d40d1e0a42c5696936043bbd8059984259cd33",
                        licence="MIT (pydicom-data repository licence); images are NEMA/GDCM/user-contributed anonymised test files without a separate image licence"),
    "pylibjpegdata": dict(kind="git", repo="pydicom/pylibjpeg-data",
                          commit="916aa154a06ac6e85678d8bcffe4273814752c96",
                          licence="MIT (pylibjpeg-data repository licence); images originate from GDCM/pydicom test data without a separate image licence"),
    "dicomtestfiles": dict(kind="git", repo="robyoung/dicom-test-files",
                           commit="6279c96a8a9d4ed2cfba89ac67ebcf669c4471f9",
                           licence="see row"),
    "highdicom": dict(kind="git", repo="ImagingDataCommons/highdicom",
                      commit="49728738b395c40058f091f13a514b468dff9451",
                      licence="MIT (highdicom repository licence)"),
    "dicomnumpy": dict(kind="git", repo="innolitics/dicom-numpy",
                       commit="98e927ce53b3ca77ae4bbe811e781f87b02aaca8",
                       licence="MIT (dicom-numpy repository licence); original source of dupe-positions.zip is undocumented (PatientID 'Z-Missing-Slices-Lymphoma', GE scanner, anonymised)"),
    "imageio": dict(kind="git", repo="imageio/imageio-binaries",
                    commit="f8f64710ea88e7e4a352c0f7d8c0deac9f5fd685",
                    licence="see row"),
    "pyradiomics": dict(kind="git", repo="AIM-Harvard/pyradiomics",
                        commit="8ed579383b44806651c463d5e691f3b2b57522ab",
                        licence="BSD-3-Clause (pyradiomics repository licence)"),
    "antspy": dict(kind="git", repo="ANTsX/ANTsPy",
                   commit="0cf1e566019d92a5e878129fa4cf1af839ccb826",
                   licence="Apache-2.0 (ANTsPy repository licence)"),
    "totalseg": dict(kind="git", repo="wasserth/TotalSegmentator",
                     commit="0e65a448d557382b1e925276212b3bec7f5aff83",
                     licence="Apache-2.0 (TotalSegmentator repository licence); example images presumably from the TotalSegmentator dataset (CC BY 4.0)"),
    "dicom2nifti": dict(kind="git", repo="icometrix/dicom2nifti",
                        commit="d68253ef3b173f43067b6f9db83788bc25cf50cd",
                        licence="MIT (dicom2nifti repository licence; test data has no separate licence)"),
    "torax": dict(kind="git", repo="joaoclaudio82/torax",
                  commit="1dbed883e476e4606d44f14fe43f0941d734698d",
                  licence="CC0 1.0 (Wikimedia Commons upload by Mikael Häggström; licence recorded in the repo's data.js)"),
    "pydicompkg": dict(kind="pip", package="pydicom", version="3.0.2",
                       subdir="data/test_files", licence="MIT (pydicom package licence)"),
    "nibabelpkg": dict(kind="pip", package="nibabel", version="5.4.2",
                       subdir="tests/data", licence="MIT (nibabel package licence)"),
    "nibabelnicom": dict(kind="pip", package="nibabel", version="5.4.2",
                         subdir="nicom/tests/data", licence="MIT (nibabel package licence)"),
}

# Items: (category, source, path, options)
#   options: frames/slices = list of indices or fractions (floats in [0,1]) along the slice axis
#            win = (centre, width) in modality units (HU for CT); None -> DICOM VOI or percentiles
#            axis = slice axis for volumes (after canonical RAS reorientation: 2 = axial)
#            note = free text, lic = licence override
LUNG = (-600, 1500)
SOFT = (40, 400)
BRAIN = (40, 80)
BONE = (400, 1800)

ITEMS = [
    # ---------------------------------------------------------------- lateral chest
    ("lateral", "torax", "assets/chest-lateral.jpg", dict(win=None, note="normal adult lateral chest radiograph; original https://commons.wikimedia.org/wiki/File:Normal_lateral_chest_radiograph_(X-ray).jpg (author Mikael Häggström, CC0); byte size 1114909 matches the Commons original")),
    ("lateral", "torax", "assets/pneumothorax-lateral.jpg", dict(win=None, note="adult lateral chest radiograph with pneumothorax (inspiration); original https://commons.wikimedia.org/wiki/File:Lateral_X-ray_of_pneumothorax_in_inspiration.jpg (Mikael Häggström, CC0)")),
    # ---------------------------------------------------------------- CT
    ("ct", "dicomtestfiles", "data/WG04/REF/CT1_UNC.zst", dict(unclear=True, win=SOFT, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 CT1 (body CT). " + NEMA_NOTE)),
    ("ct", "dicomtestfiles", "data/WG04/REF/CT1_UNC.zst", dict(unclear=True, win=LUNG, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="same slice as previous, lung window. " + NEMA_NOTE)),
    ("ct", "dicomtestfiles", "data/WG04/REF/CT2_UNC.zst", dict(unclear=True, win=BRAIN, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 CT2 (head CT). " + NEMA_NOTE)),
    ("ct", "dicomtestfiles", "data/dcmqi/segmentations/ct-3slice/02.dcm.zst", dict(win=SOFT, lic="BSD-3-Clause (dcmqi, data/dcmqi/LICENSE.txt)", note="dcmqi test CT slice")),
    ("ct", "pydicomdata", "data_store/data/693_UNCR.dcm", dict(win=SOFT, note="pydicom issue #693 regression CT")),
    ("ct", "pydicompkg", "J2K_pixelrep_mismatch.dcm", dict(win=BRAIN, note="head CT, pydicom issue #1149 dataset")),
    ("ct", "pydicomdata", "data_store/data/bad_sequence.dcm", dict(win=SOFT, note="neck CT, pydicom issue #1067 dataset (anonymised, contributed by @sylvainKritter)")),
    ("ct", "pydicomdata", "data_store/data/explicit_VR-UN.dcm", dict(win=SOFT, note="pancreas CT (pydicom test file)")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEG2000/ELSCINT1_JP2vsJ2K.dcm", dict(win=None, note="CT (GDCM test image ELSCINT1_JP2vsJ2K)")),
    ("ct", "highdicom", "data/test_files/ct_image.dcm", dict(win=SOFT, note="highdicom test CT (128x128)")),
    ("ct", "imageio", "images/dicom_file01.dcm", dict(unclear=True, win=None, pct=True, lic="imageio standard test image; repo has no data licence (imageio itself BSD-2)", note="CT slice of a phantom, imageio test DICOM")),
    ("ct", "imageio", "images/stent.npz", dict(unclear=True, slices=[0.2, 0.45, 0.7, 0.9], axis=0, win=None, lic="imageio standard image 'stent.npz'; repo has no data licence (imageio BSD-2)", note="CT volume of a stented abdominal aorta (imageio standard image); raw values 0-2000, percentile window")),
    ("ct", "dicomnumpy", "tests/dupe-positions.zip::CT20.dcm", dict(win=SOFT, note="anonymised abdominal CT (lymphoma case) from dicom-numpy test archive, slice CT20")),
    ("ct", "dicomnumpy", "tests/dupe-positions.zip::CT25.dcm", dict(win=BONE, note="same series, slice CT25, bone window")),
    ("ct", "dicomnumpy", "tests/dupe-positions.zip::CT29.dcm", dict(win=LUNG, note="same series, slice CT29, lung window (lung bases)")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.3, 0.55, 0.8], axis=2, win=SOFT, note="TotalSegmentator example CT (3 mm), axial")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.5], axis=1, win=SOFT, note="TotalSegmentator example CT, coronal reformat")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.5], axis=0, win=BONE, note="TotalSegmentator example CT, sagittal reformat, bone window")),
    ("ct", "totalseg", "tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016575", dict(win=SOFT, note="TotalSegmentator example CT DICOM series, slice 3/20")),
    ("ct", "totalseg", "tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016587", dict(win=LUNG, note="TotalSegmentator example CT DICOM series, slice 15/20, lung window")),
    ("ct", "totalseg", "tests/reference_files/aorta_report/test_result/models/ct_cropped.nii.gz", dict(slices=[0.25, 0.75], axis=2, win=SOFT, note="TotalSegmentator aorta-report test CT (cropped, 1.5 mm), axial")),
    ("ct", "totalseg", "tests/reference_files/aorta_report/test_result/models/ct_cropped.nii.gz", dict(slices=[0.5], axis=0, win=(300, 1000), note="TotalSegmentator aorta-report test CT, sagittal reformat")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEG2000Lossless/TOSHIBA_J2K_OpenJPEGv2Regression.dcm", dict(win=LUNG, note="axial chest CT (GDCM test image TOSHIBA_J2K_OpenJPEGv2Regression), lung window")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEG2000Lossless/TOSHIBA_J2K_OpenJPEGv2Regression.dcm", dict(win=SOFT, note="same slice, soft-tissue window")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEG2000Lossless/TOSHIBA_J2K_SIZ0_PixRep1.dcm", dict(win=SOFT, note="axial pelvis CT (GDCM test image TOSHIBA_J2K_SIZ0_PixRep1)")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.15, 0.45, 0.68], axis=2, win=SOFT, note="TotalSegmentator example CT (3 mm), more axial levels")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.97], axis=2, win=LUNG, note="TotalSegmentator example CT, top slice, lung window")),
    ("ct", "totalseg", "tests/reference_files/aorta_report/test_result/models/ct_cropped.nii.gz", dict(slices=[0.5], axis=2, win=LUNG, note="TotalSegmentator aorta-report test CT, axial, lung window")),
    ("ct", "totalseg", "tests/reference_files/aorta_report/test_result/models/ct_cropped.nii.gz", dict(slices=[0.5], axis=1, win=SOFT, note="TotalSegmentator aorta-report test CT, coronal reformat")),
    ("ct", "totalseg", "tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016580", dict(win=BONE, note="TotalSegmentator example CT DICOM series, slice 8/20, bone window")),
    ("ct", "dicomtestfiles", "data/WG04/REF/CT2_UNC.zst", dict(unclear=True, win=BONE, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 CT2 head CT, bone window. " + NEMA_NOTE)),
    ("ct", "imageio", "images/stent.npz", dict(unclear=True, slices=[0.5], axis=1, win=None, lic="imageio standard image 'stent.npz'; repo has no data licence (imageio BSD-2)", note="stent CT volume, reformat along axis 1")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEGLS/CT1_JLSN.dcm", dict(win=LUNG, note="NEMA WG04 CT1 (chest/upper abdomen), JPEG-LS near-lossless copy shipped in pylibjpeg-data, lung window")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEGLS/CT1_JLSN.dcm", dict(win=SOFT, note="same slice, soft-tissue window")),
    ("ct", "totalseg", "tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573", dict(win=SOFT, note="TotalSegmentator example CT DICOM series, slice 1/20")),
    ("ct", "totalseg", "tests/reference_files/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016592", dict(win=LUNG, note="TotalSegmentator example CT DICOM series, slice 20/20, lung window")),
    ("ct", "totalseg", "tests/reference_files/aorta_report/test_result/models/ct_cropped.nii.gz", dict(slices=[0.4], axis=2, win=(300, 1000), note="TotalSegmentator aorta-report test CT, axial, angio window")),
    ("ct", "totalseg", "tests/reference_files/example_ct.nii.gz", dict(slices=[0.35], axis=1, win=LUNG, note="TotalSegmentator example CT, coronal reformat, lung window")),
    ("ct", "dicomtestfiles", "data/dcmqi/segmentations/ct-3slice/01.dcm.zst", dict(win=BONE, lic="BSD-3-Clause (dcmqi, data/dcmqi/LICENSE.txt)", note="dcmqi test CT slice, bone window")),
    ("ct", "dicomnumpy", "tests/dupe-positions.zip::CT22.dcm", dict(win=(60, 300), note="same series as CT20, slice CT22")),
    ("ct", "pydicompkg", "J2K_pixelrep_mismatch.dcm", dict(win=BONE, note="head CT, bone window")),
    ("ct", "pylibjpegdata", "ljdata/ds/JPEG2000/ELSCINT1_JP2vsJ2K.dcm", dict(win=BONE, note="same ELSCINT1 slice, bone window")),
    # ---------------------------------------------------------------- MR
    ("mr", "dicomtestfiles", "data/WG04/REF/MR1_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 MR1. " + NEMA_NOTE)),
    ("mr", "dicomtestfiles", "data/WG04/REF/MR2_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 MR2 shoulder. " + NEMA_NOTE)),
    ("mr", "dicomtestfiles", "data/WG04/REF/MR3_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 MR3 knee. " + NEMA_NOTE)),
    ("mr", "dicomtestfiles", "data/WG04/REF/MR4_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 MR4 brain. " + NEMA_NOTE)),
    ("mr", "dicomtestfiles", "data/dcmqi/paramaps/701-ADCb500/000008.dcm.zst", dict(win=None, lic="BSD-3-Clause (dcmqi, data/dcmqi/LICENSE.txt)", note="prostate MR ADC map (dcmqi parametric-map example)")),
    ("mr", "pydicomdata", "data_store/data/MR-SIEMENS-DICOM-WithOverlays.dcm", dict(win=None, note="abdomen/liver MR (pydicom test file)")),
    ("mr", "pydicomdata", "data_store/data/emri_small.dcm", dict(frames=[5], win=None, note="enhanced MR head, 64x64, 10 frames (pydicom test file)")),
    ("mr", "imageio", "images/dicom_file02.dcm", dict(unclear=True, frames=[0, 3, 6, 9], win=None, lic="imageio standard test image; repo has no data licence (imageio BSD-2)", note="multi-contrast brain tumour MR, 12 frames")),
    ("mr", "pyradiomics", "data/brain1_image.nrrd", dict(slices=[0.35, 0.6], axis=2, win=None, note="brain MR with tumour (pyradiomics test case brain1)")),
    ("mr", "pyradiomics", "data/brain2_image.nrrd", dict(slices=[0.4, 0.65], axis=2, win=None, note="brain MR with tumour (pyradiomics test case brain2)")),
    ("mr", "antspy", "data/r16slice.jpg", dict(win=None, note="2D brain MR slice (ANTs example r16)")),
    ("mr", "antspy", "data/r64slice.jpg", dict(win=None, note="2D brain MR slice (ANTs example r64)")),
    ("mr", "antspy", "data/ch2.nii.gz", dict(slices=[0.45], axis=2, win=None, note="Colin27 (ch2) T1 brain template, axial")),
    ("mr", "antspy", "data/ch2.nii.gz", dict(slices=[0.5], axis=0, win=None, note="Colin27 (ch2) T1 brain template, sagittal")),
    ("mr", "antspy", "data/mni.nii.gz", dict(slices=[0.6], axis=2, win=None, note="MNI152 T1 template, axial")),
    ("mr", "antspy", "data/mni.nii.gz", dict(slices=[0.5], axis=1, win=None, note="MNI152 T1 template, coronal")),
    ("mr", "nibabelpkg", "example4d.nii.gz", dict(slices=[0.5], axis=2, win=None, note="EPI (fMRI) volume, first timepoint")),
    ("mr", "totalseg", "tests/reference_files/example_mr_sm.nii.gz", dict(slices=[0.3, 0.7], axis=2, win=None, note="TotalSegmentator example MR (3 mm), axial")),
    ("mr", "dicom2nifti", "tests/data/hitachi/anatomical/001/002.dcm", dict(win=None, note="dicom2nifti Hitachi MR (64x64)")),
    ("mr", "pydicomdata", "data_store/data/MR2_UNCR.dcm", dict(win=None, note="NEMA WG04 MR2 (shoulder) as shipped in pydicom-data")),
    ("mr", "totalseg", "tests/reference_files/example_mr_sm.nii.gz", dict(slices=[0.5], axis=2, win=None, note="TotalSegmentator example MR, axial mid slice")),
    ("mr", "antspy", "data/ch2.nii.gz", dict(slices=[0.55], axis=1, win=None, note="Colin27 (ch2) T1 brain template, coronal")),
    ("mr", "dicomtestfiles", "data/dcmqi/paramaps/701-ADCb500/000015.dcm.zst", dict(win=None, lic="BSD-3-Clause (dcmqi, data/dcmqi/LICENSE.txt)", note="prostate MR ADC map, another slice")),
    ("mr", "nibabelpkg", "example4d.nii.gz", dict(slices=[0.3], axis=2, win=None, note="EPI (fMRI) volume, lower slice")),
    # ---------------------------------------------------------------- other radiographs
    ("other_radiograph", "dicomtestfiles", "data/WG04/REF/RG2_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 RG2 hip CR. " + NEMA_NOTE)),
    ("other_radiograph", "dicomtestfiles", "data/WG04/REF/RG3_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 RG3 distal femur/knee CR. " + NEMA_NOTE)),
    ("other_radiograph", "dicomtestfiles", "data/WG04/J2KI/MG1_J2KI", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 MG1 mammogram (MLO). " + NEMA_NOTE)),
    ("other_radiograph", "dicomtestfiles", "data/WG04/REF/XA1_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 XA1 angiography frame. " + NEMA_NOTE)),
    ("other_radiograph", "dicomtestfiles", "data/WG04/REF/NM1_UNC.zst", dict(unclear=True, win=None, lic="no explicit licence: NEMA WG04 public DICOM test image (repo code MIT)", note="NEMA WG04 NM1 whole-body bone scan (nuclear medicine, not a radiograph). " + NEMA_NOTE)),
    ("other_radiograph", "pylibjpegdata", "ljdata/ds/JPEGLSLossless/RG2_JLSL.dcm", dict(win=None, note="NEMA WG04 RG2 hip CR, as shipped in pylibjpeg-data")),
    ("other_radiograph", "pydicomdata", "data_store/data/RG3_J2KR.dcm", dict(win=None, note="NEMA WG04 RG3 distal femur/knee CR, as shipped in pydicom-data")),
    ("other_radiograph", "pydicomdata", "data_store/data/JPEG2000_UNC.dcm", dict(win=None, note="NEMA WG04 NM1 whole-body bone scan (nuclear medicine, not a radiograph), as shipped in pydicom-data")),
    ("other_radiograph", "pylibjpegdata", "ljdata/ds/JPEG2000/MAROTECH_CT_JP2Lossy.dcm", dict(win=None, pct=True, note="CT localizer (topogram) of chest/abdomen, frontal projection (GDCM test image MAROTECH_CT_JP2Lossy); Modality CT but radiograph-like: decide whether it belongs in the refuse set")),
    ("other_radiograph", "pylibjpegdata", "ljdata/ds/JPEG2000Lossless/NM_Kakadu44_SOTmarkerincons.dcm", dict(win=None, note="CR right hand PA (GDCM test image NM_Kakadu44_SOTmarkerincons)")),
]


# --------------------------------------------------------------------------------------------
def read_source_bytes(src: dict, path: str, mirror_root: str) -> bytes:
    member = None
    if "::" in path:
        path, member = path.split("::", 1)
    if src["kind"] == "git":
        gitdir = os.path.join(mirror_root, src["repo"].replace("/", "+"), "repo")
        data = subprocess.run(["git", "--git-dir", gitdir, "show", f"{src['commit']}:{path}"],
                              check=True, capture_output=True).stdout
    else:
        mod = importlib.import_module(src["package"])
        ver = getattr(mod, "__version__", "?")
        if ver != src["version"]:
            print(f"warning: {src['package']} {ver} != pinned {src['version']}", file=sys.stderr)
        base = os.path.join(os.path.dirname(mod.__file__), src["subdir"])
        with open(os.path.join(base, path), "rb") as fh:
            data = fh.read()
    if path.endswith(".zst"):
        import zstandard
        data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
    if path.endswith(".dcm.gz"):
        import gzip
        data = gzip.decompress(data)
    if member:
        data = zipfile.ZipFile(io.BytesIO(data)).read(member)
    return data


def percentile_window(a: np.ndarray, lo=0.5, hi=99.5) -> np.ndarray:
    a = a.astype(np.float64)
    vals = a[np.isfinite(a)]
    p0, p1 = np.percentile(vals, [lo, hi])
    if p1 <= p0:
        p1 = p0 + 1
    return np.clip((a - p0) / (p1 - p0), 0, 1)


def fixed_window(a: np.ndarray, c: float, w: float) -> np.ndarray:
    return np.clip((a.astype(np.float64) - (c - w / 2)) / w, 0, 1)


def pick(n: int, sel):
    out = []
    for s in sel:
        out.append(min(n - 1, int(round(s * (n - 1)))) if isinstance(s, float) else int(s))
    return out


def load_images(data: bytes, path: str, opts: dict):
    """Yield (float image in [0,1], tag) for each selected frame/slice."""
    p = path.split("::")[-1].lower()
    win = opts.get("win")
    if p.endswith((".jpg", ".jpeg", ".png")):
        im = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float64)
        yield percentile_window(im, 0.0, 100.0), ""
        return
    if p.endswith(".npz"):
        vol = np.load(io.BytesIO(data))["arr_0"]
        for i in pick(vol.shape[opts.get("axis", 0)], opts["slices"]):
            sl = np.take(vol, i, axis=opts.get("axis", 0))
            yield (fixed_window(sl, *win) if win else percentile_window(sl)), f"slice{i}"
        return
    if p.endswith(".nrrd"):
        import nrrd, tempfile
        with tempfile.NamedTemporaryFile(suffix=".nrrd") as tf:
            tf.write(data); tf.flush()
            vol, _ = nrrd.read(tf.name)
        ax = opts.get("axis", 2)
        for i in pick(vol.shape[ax], opts["slices"]):
            sl = np.take(vol, i, axis=ax).T  # nrrd is x,y,z -> rows=y
            yield (fixed_window(sl, *win) if win else percentile_window(sl)), f"slice{i}"
        return
    if p.endswith((".nii", ".nii.gz", ".mgz")):
        import nibabel as nib, tempfile
        suffix = ".nii.gz" if p.endswith(".gz") else os.path.splitext(p)[1]
        with tempfile.NamedTemporaryFile(suffix=suffix) as tf:
            tf.write(data); tf.flush()
            img = nib.as_closest_canonical(nib.load(tf.name))
            vol = np.asarray(img.dataobj, dtype=np.float64)
        if vol.ndim == 4:
            vol = vol[..., 0]
        ax = opts.get("axis", 2)
        for i in pick(vol.shape[ax], opts["slices"]):
            sl = np.rot90(np.take(vol, i, axis=ax))  # RAS -> radiological-ish display
            yield (fixed_window(sl, *win) if win else percentile_window(sl)), f"slice{i}"
        return
    # DICOM
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut
    ds = pydicom.dcmread(io.BytesIO(data), force=True)
    arr = ds.pixel_array
    nf = int(getattr(ds, "NumberOfFrames", 1) or 1)
    frames = opts.get("frames", [0])
    if getattr(ds, "SamplesPerPixel", 1) != 1:
        raise ValueError("colour DICOM not supported")
    for f in frames:
        fr = arr[f] if nf > 1 else arr
        if win is not None:
            out = fixed_window(apply_modality_lut(fr, ds), *win)
        else:
            try:
                has_voi = ("WindowCenter" in ds) or ("VOILUTSequence" in ds)
            except Exception:
                has_voi = False
            if has_voi and nf == 1 and not opts.get("pct"):
                v = apply_voi_lut(apply_modality_lut(fr, ds), ds)
                out = percentile_window(v, 0.0, 100.0)
            else:
                out = percentile_window(apply_modality_lut(fr, ds))
        if getattr(ds, "PhotometricInterpretation", "") == "MONOCHROME1":
            out = 1.0 - out
        yield out, (f"frame{f}" if nf > 1 else "")


def save_png(img01: np.ndarray, dst: str, max_side: int):
    im = Image.fromarray((np.clip(img01, 0, 1) * 255 + 0.5).astype(np.uint8), mode="L")
    w, h = im.size
    s = max_side / max(w, h)
    if s < 1:
        im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.LANCZOS)
    im.save(dst, optimize=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mirror-root", default="/work/.mirror")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--max-side", type=int, default=512)
    args = ap.parse_args()

    rows = []
    counters = {}
    for cat, sk, path, opts in ITEMS:
        src = SOURCES[sk]
        sub = os.path.join("_licence_unclear", cat) if opts.get("unclear") else cat
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
        try:
            data = read_source_bytes(src, path, args.mirror_root)
            imgs = list(load_images(data, path, opts))
        except Exception as e:  # keep going, report
            print(f"SKIP {sk}:{path}: {e}", file=sys.stderr)
            continue
        for img, tag in imgs:
            n = counters.get((sub, sk), 0) + 1
            counters[(sub, sk)] = n
            name = f"{sk}_{n}.png"
            save_png(img, os.path.join(args.out, sub, name), args.max_side)
            win = opts.get("win")
            wtxt = f"window C{win[0]}/W{win[1]}" if win else ("full intensity range" if path.lower().endswith((".jpg", ".png")) else "auto window (DICOM VOI, else 0.5-99.5 percentile)")
            rows.append(dict(
                file=f"{sub}/{name}", category=cat,
                source_repo_or_package=(src.get("repo") or f"pip:{src['package']}"),
                commit_or_version=(src.get("commit") or src["version"]),
                source_path=(path if src["kind"] == "git" else f"{src['package']}/{src['subdir']}/{path}") + (f" [{tag}]" if tag else ""),
                licence=opts.get("lic", src["licence"]),
                notes=f"{opts.get('note', '')}; {wtxt}".strip("; "),
            ))
    with open(os.path.join(args.out, "manifest.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "category", "source_repo_or_package",
                                           "commit_or_version", "source_path", "licence", "notes"])
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {len(rows)} images")


if __name__ == "__main__":
    main()
