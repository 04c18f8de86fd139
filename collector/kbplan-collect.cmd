@echo off
rem kbplan collector for Windows Server 2008 SP2 and Windows Vista (NT 6.0).
rem cmd only: systeminfo, wmic, reg, ver, dir. No PowerShell needed.
rem
rem   kbplan-collect.cmd [OUTDIR] [--upload URL --token TOKEN [--group NAME]]
rem
rem Writes a kbplan bundle (format: docs/bundle.md) into OUTDIR, by default
rem .\kbplan-%COMPUTERNAME%. kbplan reads the folder as one host:
rem   kbplan analyze OUTDIR
rem Every command may fail on a given host; the bundle records what it got.
setlocal EnableExtensions DisableDelayedExpansion

rem A 32-bit cmd on x64 sees the WOW64 registry and System32: run the 64-bit
rem one instead (Sysnative exists from Vista on).
if defined PROCESSOR_ARCHITEW6432 if exist "%SystemRoot%\Sysnative\cmd.exe" (
  "%SystemRoot%\Sysnative\cmd.exe" /c ""%~f0" %*"
  exit /b
)

set "OUT="
set "URL="
set "TOKEN="
set "GROUP="
:args
if "%~1"=="" goto argsdone
if /i "%~1"=="--upload" (set "URL=%~2" & shift & shift & goto args)
if /i "%~1"=="--token" (set "TOKEN=%~2" & shift & shift & goto args)
if /i "%~1"=="--group" (set "GROUP=%~2" & shift & shift & goto args)
if /i "%~1"=="/?" goto usage
if /i "%~1"=="--help" goto usage
set "OUT=%~1"
shift
goto args
:usage
echo usage: %~nx0 [OUTDIR] [--upload URL --token TOKEN [--group NAME]]
exit /b 2
:argsdone
if not defined OUT set "OUT=%CD%\kbplan-%COMPUTERNAME%"
if not exist "%OUT%\" mkdir "%OUT%"
if not exist "%OUT%\" (
  echo kbplan-collect: cannot create "%OUT%" 1>&2
  exit /b 1
)

rem The manifest names the format version; the files follow docs/bundle.md.
>"%OUT%\kbplan-bundle.txt" echo kbplan-bundle 1
>>"%OUT%\kbplan-bundle.txt" echo collector: cmd 1
>>"%OUT%\kbplan-bundle.txt" echo host: %COMPUTERNAME%
>>"%OUT%\kbplan-bundle.txt" echo date: %DATE% %TIME%
>>"%OUT%\kbplan-bundle.txt" echo processor_architecture: %PROCESSOR_ARCHITECTURE% %PROCESSOR_ARCHITEW6432%

ver > "%OUT%\ver.txt" 2>&1
systeminfo /fo csv > "%OUT%\systeminfo.csv" 2>&1
rem wmic writes UTF-16 when redirected and waits on stdin unless it is NUL.
wmic os get BuildNumber,Caption,CSDVersion,CSName,OperatingSystemSKU,OSArchitecture,ServicePackMajorVersion,Version /value < NUL > "%OUT%\wmic-os.txt" 2>&1
wmic qfe list full /format:list < NUL > "%OUT%\wmic-qfe.txt" 2>&1

reg query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion" > "%OUT%\reg-currentversion.txt" 2>&1
reg query "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Servicing\Codesigning\SHA2" > "%OUT%\reg-sha2.txt" 2>&1
reg query "HKLM\SOFTWARE\Microsoft\Internet Explorer" > "%OUT%\reg-ie.txt" 2>&1
reg query "HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP" /s > "%OUT%\reg-dotnet.txt" 2>&1
rem Programs and Features (64- and 32-bit views): which separately installed
rem products (.NET 3.5/4, MSXML 4, AD FS 2.0, FTP 7.5, Media Services ...) the
rem host has, so that their updates are planned.
reg query "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall" /s /v DisplayName > "%OUT%\reg-uninstall.txt" 2>&1
reg query "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall" /s /v DisplayName >> "%OUT%\reg-uninstall.txt" 2>&1
rem Installed roles and features (Server only; the [Command-ID] is not
rem translated). Windows Media Services 2008 shows as a role here.
servermanagercmd -query > "%OUT%\roles.txt" 2>&1

dir /b /ad "%SystemRoot%\servicing\Version" > "%OUT%\servicing-version.txt" 2>&1
dir /b "%SystemRoot%\servicing\Packages\Package_*for_KB*.mum" > "%OUT%\servicing-packages.txt" 2>&1

rem Pending restart: whether each key or value exists (errorlevel, not the
rem localised message).
>"%OUT%\pending.txt" call :probe RebootPending "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
>>"%OUT%\pending.txt" call :probe PackagesPending "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\PackagesPending"
>>"%OUT%\pending.txt" call :probe RebootRequired "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
>>"%OUT%\pending.txt" call :probevalue PendingFileRenameOperations "HKLM\SYSTEM\CurrentControlSet\Control\Session Manager" PendingFileRenameOperations

rem File versions: wmic datafile needs doubled backslashes.
set "SR=%SystemRoot:\=\\%"
wmic datafile where "name='%SR%\\System32\\ntoskrnl.exe'" get Version /value < NUL > "%OUT%\file-ntoskrnl.txt" 2>&1
wmic datafile where "name='%SR%\\System32\\wuaueng.dll'" get Version /value < NUL > "%OUT%\file-wuaueng.txt" 2>&1
wmic datafile where "name='%SR%\\System32\\mshtml.dll'" get Version /value < NUL > "%OUT%\file-mshtml.txt" 2>&1
wmic datafile where "name='%SR%\\System32\\drivers\\srv.sys'" get Version /value < NUL > "%OUT%\file-srv.txt" 2>&1

rem ESU: the licence status of the Windows Server 2008 ESU activation IDs
rem (years 1-3; docs/bundle.md names the source). LicenseStatus=1 is licensed;
rem "absent" means licensing WMI answered but has no such product (no ESU
rem key installed); "unknown" that licensing WMI did not answer.
set "SLOK="
for /f "tokens=2 delims==" %%s in ('wmic path SoftwareLicensingService get Version /value 2^>NUL ^< NUL ^| find "="') do set "SLOK=1"
>"%OUT%\esu.txt" call :esu 1 553673ed-6ddf-419c-a153-b760283472fd
>>"%OUT%\esu.txt" call :esu 2 04fa0286-fa74-401e-bbe9-fbfbb158010d
>>"%OUT%\esu.txt" call :esu 3 16c08c85-0c8b-4009-9b2b-f1f7319e45f9

echo kbplan-collect: bundle written to "%OUT%"
if defined URL goto upload
exit /b 0

:probe
reg query "%~2" >NUL 2>&1
if errorlevel 1 (echo %1=absent) else (echo %1=present)
goto :eof

:probevalue
reg query "%~2" /v %3 >NUL 2>&1
if errorlevel 1 (echo %1=absent) else (echo %1=present)
goto :eof

:esu
set "ESUSTATUS=unknown"
if defined SLOK set "ESUSTATUS=absent"
for /f "tokens=2 delims==" %%s in ('wmic path SoftwareLicensingProduct where "ID='%2'" get LicenseStatus /value 2^>NUL ^< NUL ^| find "="') do set "ESUSTATUS=%%s"
echo esu-year%1 %2 LicenseStatus=%ESUSTATUS%
goto :eof

:upload
rem Upload (docs/bundle.md): pack the bundle with makecab, then POST it with
rem the HTTP client every 2008 has (MSXML2.ServerXMLHTTP through cscript).
if not defined TOKEN (
  echo kbplan-collect: --upload needs --token 1>&2
  exit /b 2
)
set "CAB=%TEMP%\kbplan-%COMPUTERNAME%.cab"
set "DDF=%TEMP%\kbplan-%COMPUTERNAME%.ddf"
>"%DDF%" echo .Set CabinetNameTemplate=kbplan-%COMPUTERNAME%.cab
>>"%DDF%" echo .Set DiskDirectoryTemplate=%TEMP%
>>"%DDF%" echo .Set Cabinet=on
>>"%DDF%" echo .Set Compress=on
>>"%DDF%" echo .Set UniqueFiles=off
for %%f in ("%OUT%\*") do echo "%%~ff" "%%~nxf">> "%DDF%"
makecab /F "%DDF%" > NUL
if errorlevel 1 (
  echo kbplan-collect: makecab failed 1>&2
  exit /b 1
)
set "VBS=%TEMP%\kbplan-upload.vbs"
>"%VBS%" echo Set s = CreateObject^("ADODB.Stream"^): s.Type = 1: s.Open: s.LoadFromFile WScript.Arguments^(0^)
>>"%VBS%" echo Set h = CreateObject^("MSXML2.ServerXMLHTTP"^)
>>"%VBS%" echo u = WScript.Arguments^(1^)
rem --group NAME: the fleet puts the host in that group (docs/fleet.md).
>>"%VBS%" echo If WScript.Arguments.Count ^> 3 Then
>>"%VBS%" echo   If InStr^(u, "?"^) ^> 0 Then u = u ^& "&" Else u = u ^& "?"
>>"%VBS%" echo   u = u ^& "group=" ^& Escape^(WScript.Arguments^(3^)^)
>>"%VBS%" echo End If
>>"%VBS%" echo h.Open "POST", u, False
>>"%VBS%" echo h.setRequestHeader "Authorization", "Bearer " ^& WScript.Arguments^(2^)
>>"%VBS%" echo h.setRequestHeader "Content-Type", "application/vnd.ms-cab-compressed"
>>"%VBS%" echo h.send s.Read^(^)
>>"%VBS%" echo WScript.Echo h.status ^& " " ^& h.responseText
>>"%VBS%" echo If h.status ^<^> 201 And h.status ^<^> 200 Then WScript.Quit 1
if defined GROUP (cscript //nologo "%VBS%" "%CAB%" "%URL%" "%TOKEN%" "%GROUP%") else (cscript //nologo "%VBS%" "%CAB%" "%URL%" "%TOKEN%")
if errorlevel 1 (
  echo kbplan-collect: upload to %URL% failed 1>&2
  exit /b 1
)
exit /b 0
