@echo off
rem install.cmd: kbplan offline kit 9af2cefa3121b703 for VM
rem (Windows Server 2008, build 6002, x64), made 2026-11-25T12:00:00Z.
rem 3 steps, 2 planned restarts. The steps and their SHA-256
rem come from kit.json; docs/kit.md describes both.
rem
rem   install.cmd            install, restarting where the plan says or an
rem                          installer asks; continues after each restart
rem                          (RunOnce, at the next administrator logon)
rem   install.cmd /check     check the host and each package's SHA-256 only
rem   install.cmd /noreboot  never restart: stop where a restart is due
rem
rem With report-to.txt beside it (kbplan kit --report-to), it sends its
rem results to the fleet server when it finishes, fails or restarts; a
rem server that does not answer never holds the install up.
rem
rem Exit codes: 0 every step done (or /check passed); 1 a step failed;
rem 2 wrong host, not elevated, a restart pending before the start, or bad
rem usage; 3 a package is missing or its SHA-256 differs; 4 stopped for a
rem restart (Windows is restarting, or /noreboot).
rem Written for cmd on 2008 and for Wine's cmd (the tests): no "call :x || y",
rem which Wine gets wrong; "if errorlevel" after each call instead.
rem It trusts nothing beside it: every program is run by its full path in
rem System32 (a certutil.bat in the current folder is never run),
rem install.state is read only when every line is what install.cmd writes,
rem and each package is copied to a folder of this run and hashed there,
rem and that copy is what gets installed.
setlocal EnableExtensions DisableDelayedExpansion

rem A 32-bit cmd on x64 would run the 32-bit wusa and see x86: run the
rem 64-bit cmd instead (Sysnative exists from Vista on).
if defined PROCESSOR_ARCHITEW6432 if exist "%SystemRoot%\Sysnative\cmd.exe" (
  "%SystemRoot%\Sysnative\cmd.exe" /c ""%~f0" %*"
  exit /b
)

set "SYS=%SystemRoot%\System32"
set "SELF=%~f0"
set "KIT=%~dp0"
set "LOG=%~dp0install.log"
set "STATE=%~dp0install.state"
set "KIT_ID=9af2cefa3121b703"
set "KIT_HOST=VM"
set "KIT_BUILD=6002"
set "KIT_ARCH=AMD64"
set "KIT_STEPS=3"
set "MAXBOOTS=8"
set "RUNONCE=HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce"
set "CBS=HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing"
set "MODE=install"
set "NOREBOOT="
set "RESUMED="

:args
if "%~1"=="" goto argsdone
if /i "%~1"=="/check" (set "MODE=check" & shift & goto args)
if /i "%~1"=="/noreboot" (set "NOREBOOT=1" & shift & goto args)
if /i "%~1"=="/resume" (set "RESUMED=1" & shift & goto args)
if "%~1"=="/?" goto usage
echo install.cmd: unknown option %1 1>&2
:usage
echo usage: %~nx0 [/check] [/noreboot]
echo   Installs this kit's 3 updates on %KIT_HOST% in order, restarting where
echo   needed and continuing after each restart. /check checks the host and
echo   the packages only. The log is install.log next to this script.
exit /b 2
:argsdone

rem The log and the state live next to this script: the kit must be on a
rem writable disk.
>>"%LOG%" echo.
if errorlevel 1 (
  echo install.cmd: cannot write "%LOG%": copy the kit folder to a writable disk and run it from there 1>&2
  exit /b 2
)
call :log "install.cmd %MODE% started on %COMPUTERNAME% (kit %KIT_ID%, %KIT_STEPS% steps)"
if defined RESUMED call :log "resumed after a restart"

rem Progress: install.state holds "key=value" lines, appended, the last of
rem each key wins: a power cut cannot leave it half written.
set "NEXT=1"
set "BOOTS=0"
set "STATE_ID="
rem Every line must be one install.cmd writes (kit=HEX, next=DIGITS,
rem boots=DIGITS, done=...): a line that is not could carry commands into
rem the lines below that use the values. kbplan-sha256.js /state checks
rem them with a regular expression; nothing is read unless it says ok.
if not exist "%STATE%" goto state_read
set "STATEOK="
if exist "%KIT%kbplan-sha256.js" for /f "delims=" %%s in ('""%SYS%\cscript.exe" //nologo "%KIT%kbplan-sha256.js" /state "%STATE%""') do if not defined STATEOK set "STATEOK=%%s"
if not "%STATEOK%"=="ok" (
  call :log "refused: install.state holds lines install.cmd does not write (%STATEOK%): it was changed by hand or damaged. Look at it, then delete it to start from step 1 (steps already installed report already installed)"
  exit /b 2
)
for /f "usebackq tokens=1,* delims==" %%a in ("%STATE%") do (
  if "%%a"=="kit" set "STATE_ID=%%b"
  if "%%a"=="next" set "NEXT=%%b"
  if "%%a"=="boots" set "BOOTS=%%b"
)
:state_read
if exist "%STATE%" if not "%STATE_ID%"=="%KIT_ID%" (
  call :log "install.state belongs to another kit: kept as install.state.old, starting from step 1"
  move /y "%STATE%" "%STATE%.old" >nul
  set "NEXT=1"
  set "BOOTS=0"
)
if not "%STATE_ID%"=="%KIT_ID%" >>"%STATE%" echo kit=%KIT_ID%

call :checkhost
if errorlevel 1 exit /b 2

if "%MODE%"=="check" goto check
if %NEXT% GTR %KIT_STEPS% goto finished

rem An administrator, elevated: the only way to write HKLM.
"%SYS%\reg.exe" add "HKLM\SOFTWARE\kbplan" /v kit /t REG_SZ /d "%KIT_ID%" /f >nul 2>&1
if errorlevel 1 (
  call :log "refused: install.cmd must run as an administrator, elevated: right-click cmd, Run as administrator"
  exit /b 2
)

rem A restart Windows still waits for comes first. Before step 1 that is
rem the administrator's call; after one of our restarts, restart again.
"%SYS%\reg.exe" query "%CBS%\RebootPending" >nul 2>&1
if errorlevel 1 goto steps
if %NEXT% GTR 1 (
  call :reboot "first: Windows still has a restart pending from the last step"
  if errorlevel 1 exit /b 1
  exit /b 4
)
call :log "refused: Windows has a restart pending (CBS RebootPending): restart first, then run install.cmd again"
exit /b 2

:steps
call :step 1 KB4474419 "packages\windows6.0-kb4474419-x64.msu" fa252550af5e68dbcb96efaae9223e4550e45b144283b48079783cb908898a76 wusa restart
if errorlevel 1 exit /b %ERRORLEVEL%
call :step 2 KB4536953 "packages\windows6.0-kb4536953-x64.msu" 29dec3c4743ed8d9a16bfc68ad01febc0ca6dc1beee9adaf3f34298b93f1e102 wusa -
if errorlevel 1 exit /b %ERRORLEVEL%
call :step 3 KB4534303 "packages\windows6.0-kb4534303-x64.msu" f239fa7eda90b26ae3b41d25d6e5527734ae6711265f3d214c3b7b786da4e81c wusa restart
if errorlevel 1 exit /b %ERRORLEVEL%
goto finished

:check
set "BAD=0"
call :verify 1 KB4474419 "packages\windows6.0-kb4474419-x64.msu" fa252550af5e68dbcb96efaae9223e4550e45b144283b48079783cb908898a76
if errorlevel 1 set "BAD=1"
call :verify 2 KB4536953 "packages\windows6.0-kb4536953-x64.msu" 29dec3c4743ed8d9a16bfc68ad01febc0ca6dc1beee9adaf3f34298b93f1e102
if errorlevel 1 set "BAD=1"
call :verify 3 KB4534303 "packages\windows6.0-kb4534303-x64.msu" f239fa7eda90b26ae3b41d25d6e5527734ae6711265f3d214c3b7b786da4e81c
if errorlevel 1 set "BAD=1"
if "%BAD%"=="1" (
  call :log "check failed: see the lines above"
  exit /b 3
)
call :log "check passed: the host matches and every package's SHA-256 is right"
exit /b 0

:finished
call :log "all %KIT_STEPS% steps are done"
"%SYS%\reg.exe" delete "%RUNONCE%" /v kbplan-kit /f >nul 2>&1
"%SYS%\reg.exe" delete "HKLM\SOFTWARE\kbplan" /f >nul 2>&1
call :summary
call :report finished
exit /b 0

rem ---------------------------------------------------------------------
rem :step N KB FILE SHA256 INSTALLER restart|-
rem Exit 0: go on; 1: stop (failure, logged); 4: stop for a restart.
:step
if %1 LSS %NEXT% exit /b 0
if not exist "%KIT%%~3" (
  call :log "step %1/%KIT_STEPS%: %2: %~3 is missing from the kit: copy the whole kit folder again"
  exit /b 3
)
rem The package is copied to a folder of this run and hashed there, and
rem that copy is installed: a file changed after the check is never the
rem one wusa reads.
set "WORK=%KIT%work-%KIT_ID%-%RANDOM%%RANDOM%"
mkdir "%WORK%" 2>nul
if errorlevel 1 (
  call :log "step %1/%KIT_STEPS%: %2: cannot make %WORK%: the kit folder must be writable"
  exit /b 1
)
set "PKG=%WORK%\%~nx3"
copy /b /y "%KIT%%~3" "%PKG%" >nul
if errorlevel 1 (
  call :log "step %1/%KIT_STEPS%: %2: cannot copy %~3 to %WORK%"
  rd /s /q "%WORK%" 2>nul
  exit /b 1
)
call :sha256 "%PKG%"
if not defined SHA (
  call :log "step %1/%KIT_STEPS%: %2: cannot compute the SHA-256 of %~3: %SHAERR%"
  rd /s /q "%WORK%" 2>nul
  exit /b 3
)
if /i not "%SHA%"=="%4" (
  call :log "step %1/%KIT_STEPS%: %2: %~3 has SHA-256 %SHA%, the kit says %4: the file changed since the kit was made; do not install it, copy the kit again"
  rd /s /q "%WORK%" 2>nul
  call :report failed
  exit /b 3
)
call :log "step %1/%KIT_STEPS%: %2: %~3 SHA-256 ok (%SHATOOL%), checked on the copy that is installed"
call :log "step %1/%KIT_STEPS%: installing %2 with %5"
if /i "%5"=="pkgmgr" goto step_pkgmgr
"%SYS%\wusa.exe" "%PKG%" /quiet /norestart
set "RC=%ERRORLEVEL%"
rd /s /q "%WORK%" 2>nul
goto step_rc
:step_pkgmgr
rem 2008 has no DISM: expand the cabinet, then pkgmgr /ip /m: on the folder
rem (as WSUS Offline does for NT 6.0).
set "X=%WORK%\expanded"
mkdir "%X%"
"%SYS%\expand.exe" -F:* "%PKG%" "%X%" >nul
if errorlevel 1 (
  call :log "step %1/%KIT_STEPS%: %2 failed: expand could not unpack %~3"
  rd /s /q "%WORK%" 2>nul
  exit /b 1
)
"%SYS%\pkgmgr.exe" /ip /m:"%X%" /quiet /norestart
set "RC=%ERRORLEVEL%"
rd /s /q "%WORK%" 2>nul
:step_rc
call :hex %RC%
set "RESTART="
set "OUTCOME="
if "%RC%"=="0" set "OUTCOME=installed"
if "%RC%"=="3010" (set "OUTCOME=installed, restart required (3010 ERROR_SUCCESS_REBOOT_REQUIRED)" & set "RESTART=1")
if "%RC%"=="3011" (set "OUTCOME=installed, restart required (3011 ERROR_SUCCESS_RESTART_REQUIRED)" & set "RESTART=1")
if "%RC%"=="2359301" (set "OUTCOME=installed, restart required (0x00240005 WU_S_REBOOT_REQUIRED)" & set "RESTART=1")
if "%RC%"=="1641" (set "OUTCOME=installed, the installer is restarting Windows (1641 ERROR_SUCCESS_REBOOT_INITIATED)" & set "RESTART=initiated")
if "%RC%"=="2359302" set "OUTCOME=already installed (0x00240006 WU_S_ALREADY_INSTALLED): skipped"
if "%RC%"=="-2145124329" set "OUTCOME=not applicable to this host (0x80240017 WU_E_NOT_APPLICABLE): skipped"
if defined OUTCOME goto step_ok
set "WHY=failed with exit code %RC% (%HEX%): see %SystemRoot%\Logs\CBS\CBS.log and %SystemRoot%\WindowsUpdate.log"
if "%RC%"=="-2146885628" set "WHY=failed with 0x80092004 CRYPT_E_NOT_FOUND: Windows cannot check this package's SHA-2 signature. SHA-2 code signing support (KB4474419) is missing or not active yet: install KB4474419, restart, then run install.cmd again"
if "%RC%"=="-2146498270" set "WHY=failed with 0x800F0922 CBS_E_INSTALLERS_FAILED: the servicing stack could not complete the install. The cause is in %SystemRoot%\Logs\CBS\CBS.log; check that the steps before this one succeeded and that the system drive has free space"
call :log "step %1/%KIT_STEPS%: %2 %WHY%"
>>"%STATE%" echo done=%1 %2 failed %HEX%
call :summary
call :report failed
exit /b 1
:step_ok
call :log "step %1/%KIT_STEPS%: %2 %OUTCOME%"
set /a NEXT=%1+1
>>"%STATE%" echo done=%1 %2 %HEX% %OUTCOME%
>>"%STATE%" echo next=%NEXT%
if "%RESTART%"=="initiated" (
  call :reboot "after %2" initiated
  if errorlevel 1 exit /b 1
  exit /b 4
)
if defined RESTART goto step_restart
if not "%6"=="restart" exit /b 0
rem A planned restart after an update that was there already is needed
rem only if Windows still waits for one.
if not "%RC%"=="2359302" goto step_restart
"%SYS%\reg.exe" query "%CBS%\RebootPending" >nul 2>&1
if errorlevel 1 exit /b 0
:step_restart
call :reboot "after %2"
if errorlevel 1 exit /b 1
exit /b 4

rem :verify N KB FILE SHA256: the package is there and has its SHA-256.
:verify
if not exist "%KIT%%~3" (
  call :log "step %1/%KIT_STEPS%: %2: %~3 is missing from the kit: copy the whole kit folder again"
  exit /b 3
)
call :sha256 "%KIT%%~3"
if not defined SHA (
  call :log "step %1/%KIT_STEPS%: %2: cannot compute the SHA-256 of %~3: %SHAERR%"
  exit /b 3
)
if /i not "%SHA%"=="%4" (
  call :log "step %1/%KIT_STEPS%: %2: %~3 has SHA-256 %SHA%, the kit says %4: the file changed since the kit was made; do not install it, copy the kit again"
  exit /b 3
)
call :log "step %1/%KIT_STEPS%: %2: %~3 SHA-256 ok (%SHATOOL%)"
exit /b 0

rem :sha256 FILE sets SHA (lower case, or empty with SHAERR) and SHATOOL.
rem certutil -hashfile takes an algorithm from Windows 7 on; on 2008 its
rem output is used only when it holds a SHA-256. Then PowerShell, where
rem installed; then kbplan-sha256.js under Windows Script Host (slow, but
rem on every 2008 SP2, Server Core included).
:sha256
set "SHA="
set "SHAERR="
set "SHATOOL=certutil"
for /f "delims=" %%h in ('""%SYS%\certutil.exe" -hashfile "%~1" SHA256 2^>nul"') do if not defined SHA call :sha256_line "%%h"
if defined SHA exit /b 0
set "SHATOOL=powershell"
set "PS=%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe"
if not exist "%PS%" goto sha256_js
set "KBPLAN_HASH_FILE=%~1"
set "HASHOUT=%KIT%sha256-%KIT_ID%-%RANDOM%%RANDOM%.tmp"
"%PS%" -NoProfile -NonInteractive -Command "$f=[IO.File]::OpenRead($env:KBPLAN_HASH_FILE); [BitConverter]::ToString((New-Object Security.Cryptography.SHA256Managed).ComputeHash($f)); $f.Close()" <nul >"%HASHOUT%" 2>nul
set /p SHA=<"%HASHOUT%"
del "%HASHOUT%" >nul 2>&1
call :sha256_ok
if not errorlevel 1 exit /b 0
set "SHA="
:sha256_js
set "SHATOOL=kbplan-sha256.js"
if not exist "%KIT%kbplan-sha256.js" (
  set "SHAERR=kbplan-sha256.js is missing from the kit"
  exit /b 1
)
call :log "hashing %~nx1 with Windows Script Host: this takes a while for a large package"
for /f "delims=" %%h in ('""%SYS%\cscript.exe" //nologo "%KIT%kbplan-sha256.js" "%~1""') do if not defined SHA set "SHA=%%h"
call :sha256_ok
if not errorlevel 1 exit /b 0
set "SHAERR=%SHA%"
if not defined SHAERR set "SHAERR=cscript printed nothing"
set "SHA="
exit /b 1

rem :sha256_line LINE: SHA is LINE if it is a SHA-256 (certutil prints
rem it between a title and a status line).
:sha256_line
set "SHA=%~1"
call :sha256_ok
if errorlevel 1 set "SHA="
exit /b 0

rem :sha256_ok: SHA holds 64 hex digits (certutil on Windows 7 puts spaces
rem between bytes, PowerShell dashes).
:sha256_ok
if not defined SHA exit /b 1
set "SHA=%SHA: =%"
set "SHA=%SHA:-=%"
call :lower
if "%SHA:~63,1%"=="" exit /b 1
if not "%SHA:~64%"=="" exit /b 1
rem Nothing may be left once the hex digits are taken out (cmd replaces
rem without regard to case). Once REST is empty it is undefined, and
rem %REST:x=% would then expand to "x=": stop replacing.
set "REST=%SHA%"
for %%c in (0 1 2 3 4 5 6 7 8 9 a b c d e f) do if defined REST call set "REST=%%REST:%%c=%%"
if defined REST exit /b 1
exit /b 0

rem :lower: SHA in lower case, as kit.json writes it.
:lower
for %%c in (a b c d e f) do call set "SHA=%%SHA:%%c=%%c%%"
exit /b 0

rem :checkhost: the host is the one the kit was made for.
:checkhost
rem ver prints "Microsoft Windows [Version 6.0.6002]" (the word is
rem translated): the version is the last word.
set "OSVER="
for /f "delims=" %%v in ('ver') do set "OSVER=%%v"
if defined OSVER set "OSVER=%OSVER:[= %"
if defined OSVER set "OSVER=%OSVER:]= %"
if defined OSVER for %%w in (%OSVER%) do set "OSVER=%%w"
set "MAJMIN="
set "BUILD="
if defined OSVER for /f "tokens=1-3 delims=." %%a in ("%OSVER%") do set "MAJMIN=%%a.%%b" & set "BUILD=%%c"
if not defined BUILD (
  call :log "refused: cannot read the Windows version from ver"
  exit /b 1
)
if /i not "%COMPUTERNAME%"=="%KIT_HOST%" (
  call :log "refused: this kit was made for %KIT_HOST%, and this computer is %COMPUTERNAME%: make a kit for this host with kbplan kit"
  exit /b 1
)
if not "%MAJMIN%"=="6.0" (
  call :log "refused: this kit is for Windows NT 6.0 build %KIT_BUILD%, and this is Windows %OSVER%"
  exit /b 1
)
if %BUILD% LSS %KIT_BUILD% (
  call :log "refused: this kit was made for build %KIT_BUILD%, and this host is at build %BUILD%: make a kit from a current inventory"
  exit /b 1
)
if /i not "%PROCESSOR_ARCHITECTURE%"=="%KIT_ARCH%" (
  call :log "refused: this kit is for %KIT_ARCH% Windows, and this is %PROCESSOR_ARCHITECTURE%"
  exit /b 1
)
if %BUILD% GTR %KIT_BUILD% if %NEXT% EQU 1 call :log "note: the kit was made for build %KIT_BUILD% and the host is at %BUILD% now; steps already there will report already installed"
call :log "host ok: %COMPUTERNAME%, Windows %OSVER%, %PROCESSOR_ARCHITECTURE%"
exit /b 0

rem :reboot WHY [initiated]: restart now and continue after it, or stop
rem with /noreboot; "initiated": an installer restarts Windows itself.
rem Exit 1 when the restarts exceed what the kit can need.
:reboot
set /a BOOTS+=1
>>"%STATE%" echo boots=%BOOTS%
if %BOOTS% GTR %MAXBOOTS% (
  call :log "stopped: %BOOTS% restarts, more than this kit can need: a step keeps asking for a restart; see %SystemRoot%\Logs\CBS\CBS.log"
  call :report stopped
  exit /b 1
)
if "%~2"=="initiated" (
  call :resume_later
  call :log "Windows is restarting %~1; install.cmd continues after an administrator logs on"
  call :report restart
  exit /b 0
)
if defined NOREBOOT (
  call :log "restart needed %~1: restart Windows, then run install.cmd again"
  call :report restart
  exit /b 0
)
call :resume_later
call :log "restarting Windows in 60 seconds %~1; install.cmd continues after an administrator logs on"
call :report restart
rem p:2:17 = planned, SHTDN_REASON_MAJOR_OPERATINGSYSTEM (2), SHTDN_REASON_MINOR_HOTFIX
rem (0x11): Microsoft, "System Shutdown Reason Codes". A planned reason keeps
rem the Shutdown Event Tracker from asking why at the next logon.
"%SYS%\shutdown.exe" /r /t 60 /d p:2:17 /c "kbplan kit: restart %BOOTS%, install.cmd continues after logon"
if errorlevel 1 call :log "shutdown failed: restart Windows yourself; install.cmd continues after an administrator logs on"
exit /b 0

rem :resume_later: run install.cmd /resume at the next administrator logon.
:resume_later
"%SYS%\reg.exe" add "%RUNONCE%" /v kbplan-kit /t REG_SZ /d "\"%SystemRoot%\System32\cmd.exe\" /c \"\"%SELF%\" /resume\"" /f >nul
if errorlevel 1 call :log "cannot write %RUNONCE%\kbplan-kit: after the restart, run install.cmd again yourself"
exit /b 0

rem :summary: every step's outcome so far, from install.state.
:summary
call :log "summary:"
for /f "usebackq tokens=1,* delims==" %%a in ("%STATE%") do if "%%a"=="done" call :log "  step %%b"
exit /b 0

rem :report EVENT: send install.state and the end of install.log to the
rem fleet server of report-to.txt (kbplan kit --report-to), when there is
rem one. kbplan-sha256.js reads that file and sends; it prints one line of
rem safe characters, logged here, and never fails: the install goes on
rem whatever the server does (at most 40 s of timeouts).
:report
if not exist "%KIT%report-to.txt" exit /b 0
if not exist "%KIT%kbplan-sha256.js" exit /b 0
set "SENT="
for /f "delims=" %%r in ('""%SYS%\cscript.exe" //nologo "%KIT%kbplan-sha256.js" /report "%KIT%." %~1"') do if not defined SENT set "SENT=%%r"
if not defined SENT set "SENT=not sent: cscript printed nothing"
call :log "results %SENT%"
exit /b 0

rem :hex N sets HEX to N as 0xXXXXXXXX.
:hex
setlocal EnableDelayedExpansion
set "H="
set /a "N=%~1"
for /l %%i in (1,1,8) do (
  set /a "D=N & 15, N>>=4"
  set "C=!D!"
  if !D! EQU 10 set "C=A"
  if !D! EQU 11 set "C=B"
  if !D! EQU 12 set "C=C"
  if !D! EQU 13 set "C=D"
  if !D! EQU 14 set "C=E"
  if !D! EQU 15 set "C=F"
  set "H=!C!!H!"
)
endlocal & set "HEX=0x%H%"
exit /b 0

rem :log TEXT: to the console and to install.log, with the time.
:log
set "MSG=%~1"
setlocal EnableDelayedExpansion
echo !MSG!
>>"!LOG!" echo !DATE! !TIME! !MSG!
endlocal
exit /b 0
