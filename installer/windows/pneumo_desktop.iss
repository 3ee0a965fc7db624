; Inno Setup 6 recipe for the Windows installer of pneumo_desktop.
;
; *** NOT BUILT HERE *** (the project's machines run Linux). Written from the Linux build, which is
; built and smoke-tested; on Windows the same spec file makes the folder this recipe packs.
;
; On a Windows x64 machine with Python 3.11 and Inno Setup 6, from the checkout root (PowerShell):
;
;   py -3.11 -m venv build\venv-installer
;   build\venv-installer\Scripts\python -m pip install -c constraints\installer.txt torch==2.13.0
;       (PyPI's Windows torch wheels are CPU-only; check: python -c "import torch; print(torch.version.cuda)"
;        must print None)
;   build\venv-installer\Scripts\python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['project']['dependencies']))" > build\installer-requirements.txt
;   build\venv-installer\Scripts\python -m pip install -c constraints\installer.txt -r build\installer-requirements.txt pyinstaller pyinstaller-hooks-contrib
;   build\venv-installer\Scripts\python installer\make_icons.py --all
;   build\venv-installer\Scripts\pyinstaller --noconfirm --clean --distpath dist --workpath build\pyinstaller installer\pneumo_desktop.spec
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" installer\windows\pneumo_desktop.iss
;
; The spec makes dist\pneumo-desktop\ with two executables over one shared _internal\ folder:
;   pneumo-desktop.exe      windowed (no console window): the viewer, and what the Start menu runs
;   pneumo-desktop-cli.exe  console: `pneumo-desktop-cli predict ...` / `report ...` for scripts and
;                           terminals (a windowed exe has no stdout on Windows)
; Output: dist\pneumo-desktop-<version>-windows-x64-setup.exe
;
; Then check the installed app as installer/smoke_test.py does on Linux: `pneumo-desktop-cli predict`
; on a JPEG and a DICOM against the source install, and the window opening a file.

#define AppName "pneumo_desktop"
#define AppVersion "0.2.0"
#define AppExe "pneumo-desktop.exe"
#define CliExe "pneumo-desktop-cli.exe"
#define BundleDir "..\..\dist\pneumo-desktop"

[Setup]
AppId={{6C1D9E57-3B8A-4F0E-9A51-2D7F4C8B1E63}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=pneumo_desktop engineers
AppComments=Assistive pneumonia probability for chest X-rays. It does not diagnose.
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Installs for the current user without administrator rights unless the user chooses all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=pneumo-desktop-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\app.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes
ChangesAssociations=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add pneumo-desktop-cli to PATH (command line use)"; Flags: unchecked
Name: "dicomassoc"; Description: "Open DICOM files (.dcm) with {#AppName}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autoprograms}\{#AppName} licences"; Filename: "{app}\_internal\LICENSES"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; "Open with" for PNG, JPEG and DICOM without taking over the user's default viewer.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".png"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".jpeg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".dcm"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\.png\OpenWithProgids"; ValueType: string; ValueName: "pneumo_desktop.image"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpg\OpenWithProgids"; ValueType: string; ValueName: "pneumo_desktop.image"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.jpeg\OpenWithProgids"; ValueType: string; ValueName: "pneumo_desktop.image"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\.dcm\OpenWithProgids"; ValueType: string; ValueName: "pneumo_desktop.dicom"; ValueData: ""; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.image"; ValueType: string; ValueName: ""; ValueData: "Chest X-ray image"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.image\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.image\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.dicom"; ValueType: string; ValueName: ""; ValueData: "DICOM image"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.dicom\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\pneumo_desktop.dicom\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
; Only with the task: make .dcm open in pneumo_desktop by default.
Root: HKA; Subkey: "Software\Classes\.dcm"; ValueType: string; ValueName: ""; ValueData: "pneumo_desktop.dicom"; Flags: uninsdeletevalue; Tasks: dicomassoc
; PATH for the console exe (per user; an all-users install adds it for the machine).
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: not IsAdminInstallMode and NeedsAddPath('{app}')
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: IsAdminInstallMode and NeedsAddPath('{app}')

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The per-user folders (%LOCALAPPDATA%\pneumo_desktop: settings, cache and the audit log of every
; prediction) are deliberately left on uninstall: the audit log is a record the clinic may need to keep.

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Root: Integer;
  Key, Paths: string;
begin
  if IsAdminInstallMode then begin
    Root := HKEY_LOCAL_MACHINE;
    Key := 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment';
  end else begin
    Root := HKEY_CURRENT_USER;
    Key := 'Environment';
  end;
  if not RegQueryStringValue(Root, Key, 'Path', Paths) then begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(ExpandConstant(Dir)) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;
