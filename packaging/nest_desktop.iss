; Inno Setup script of NEST Desktop: installs the PyInstaller build for every user of the PC.
;
;   iscc /DAppVersion=0.1.0 packaging\nest_desktop.iss
;
; builds dist\NEST-Desktop-Setup-0.1.0.exe from dist\nest-desktop\ (see the README,
; "Installing at the clinic"). Silent install by the clinic's IT:
;
;   NEST-Desktop-Setup-0.1.0.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;
; The database and its backups live in each user's %APPDATA%\NEST\NEST Desktop\ (or the backup
; folder chosen in Settings): neither an upgrade nor an uninstall touches them.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; The same AppId for every version, so that a new version upgrades the installed one.
AppId={{6F1C2B0E-4D8A-4C39-9B57-2E0A61C3D7F4}
AppName=NEST Desktop
AppVersion={#AppVersion}
AppVerName=NEST Desktop {#AppVersion}
AppPublisher=NEST
DefaultDirName={autopf}\NEST Desktop
DefaultGroupName=NEST Desktop
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\dist
OutputBaseFilename=NEST-Desktop-Setup-{#AppVersion}
SetupIconFile=..\resources\nest.ico
UninstallDisplayIcon={app}\nest-desktop.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
DisableProgramGroupPage=yes

[Languages]
Name: "french"; MessagesFile: "compiler:Languages\French.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[Files]
; The previous version's files are replaced; no file of the user's data folder is listed here.
Source: "..\dist\nest-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; A new version's _internal folder replaces the old one whole, so no stale library is left.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{autoprograms}\NEST Desktop"; Filename: "{app}\nest-desktop.exe"
Name: "{autodesktop}\NEST Desktop"; Filename: "{app}\nest-desktop.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\nest-desktop.exe"; Description: "{cm:LaunchProgram,NEST Desktop}"; Flags: nowait postinstall skipifsilent
