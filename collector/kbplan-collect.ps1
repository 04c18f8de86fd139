# kbplan collector for Windows Server 2008 SP2 and Windows Vista (NT 6.0).
# PowerShell 2.0 compatible (docs/bundle.md lists what it avoids).
#
#   powershell -ExecutionPolicy Bypass -File kbplan-collect.ps1 [-Out DIR] [-Upload URL -Token TOKEN [-Group NAME]]
#
# Writes the same bundle as kbplan-collect.cmd (format: docs/bundle.md); it
# reads file versions with .NET and licence states with WMI directly.
param(
    [string]$Out = "",
    [string]$Upload = "",
    [string]$Token = "",
    [string]$Group = ""
)

$ErrorActionPreference = "Continue"

# A 32-bit PowerShell on x64 sees the WOW64 registry and System32: run the
# 64-bit one instead (Sysnative exists from Vista on).
if ($env:PROCESSOR_ARCHITEW6432 -ne $null) {
    $native = Join-Path $env:SystemRoot "Sysnative\WindowsPowerShell\v1.0\powershell.exe"
    if (Test-Path -LiteralPath $native) {
        # Empty arguments vanish on the way to a native command: pass only set ones.
        $argv = @("-NoProfile", "-ExecutionPolicy", "Bypass", "-File", $MyInvocation.MyCommand.Path)
        if ($Out -ne "") { $argv += @("-Out", $Out) }
        if ($Upload -ne "") { $argv += @("-Upload", $Upload, "-Token", $Token) }
        if ($Group -ne "") { $argv += @("-Group", $Group) }
        & $native $argv
        exit $LASTEXITCODE
    }
}
if ($Out -eq "") { $Out = Join-Path (Get-Location).Path ("kbplan-" + $env:COMPUTERNAME) }
if (-not (Test-Path -LiteralPath $Out)) { New-Item -ItemType Directory -Path $Out | Out-Null }

function Write-Lines([string]$Name, [string[]]$Lines) {
    # ASCII keeps the files readable by every tool; the values are ASCII.
    $Lines | Out-File -FilePath (Join-Path $Out $Name) -Encoding ASCII
}

# Native tools write through cmd, byte for byte as the cmd collector does
# (wmic in UTF-16, the others in the OEM code page).
function Save-Native([string]$Name, [string]$CommandLine) {
    $target = Join-Path $Out $Name
    cmd /c "$CommandLine < NUL > `"$target`" 2>&1"
}

Write-Lines "kbplan-bundle.txt" @(
    "kbplan-bundle 1",
    "collector: ps1 1",
    ("host: " + $env:COMPUTERNAME),
    ("date: " + (Get-Date).ToString("yyyy-MM-dd HH:mm:ss")),
    ("processor_architecture: " + $env:PROCESSOR_ARCHITECTURE + " " + $env:PROCESSOR_ARCHITEW6432)
)

Save-Native "ver.txt" "ver"
Save-Native "systeminfo.csv" "systeminfo /fo csv"
Save-Native "wmic-os.txt" "wmic os get BuildNumber,Caption,CSDVersion,CSName,OperatingSystemSKU,OSArchitecture,ServicePackMajorVersion,Version /value"
Save-Native "wmic-qfe.txt" "wmic qfe list full /format:list"
Save-Native "reg-currentversion.txt" "reg query `"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion`""
Save-Native "reg-sha2.txt" "reg query `"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Servicing\Codesigning\SHA2`""
Save-Native "reg-ie.txt" "reg query `"HKLM\SOFTWARE\Microsoft\Internet Explorer`""
Save-Native "reg-dotnet.txt" "reg query `"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP`" /s"
# Programs and Features, 64- and 32-bit views: the separately installed products.
Save-Native "reg-uninstall.txt" "reg query `"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall`" /s /v DisplayName & reg query `"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall`" /s /v DisplayName"
Save-Native "roles.txt" "servermanagercmd -query"

$servicing = Join-Path $env:SystemRoot "servicing"
$versions = @()
if (Test-Path -LiteralPath (Join-Path $servicing "Version")) {
    $versions = Get-ChildItem -LiteralPath (Join-Path $servicing "Version") | Where-Object { $_.PSIsContainer } | ForEach-Object { $_.Name }
}
Write-Lines "servicing-version.txt" $versions
$packages = @()
if (Test-Path -LiteralPath (Join-Path $servicing "Packages")) {
    $packages = Get-ChildItem -Path (Join-Path $servicing "Packages") -Filter "Package_*for_KB*.mum" | ForEach-Object { $_.Name }
}
Write-Lines "servicing-packages.txt" $packages

function Test-Key([string]$Path) { if (Test-Path -LiteralPath $Path) { "present" } else { "absent" } }
$sm = Get-ItemProperty -LiteralPath "HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager" -ErrorAction SilentlyContinue
$pfro = "absent"
if ($sm -ne $null -and $sm.PendingFileRenameOperations -ne $null) { $pfro = "present" }
Write-Lines "pending.txt" @(
    ("RebootPending=" + (Test-Key "HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending")),
    ("PackagesPending=" + (Test-Key "HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\PackagesPending")),
    ("RebootRequired=" + (Test-Key "HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired")),
    ("PendingFileRenameOperations=" + $pfro)
)

$files = @{
    "file-ntoskrnl.txt" = "System32\ntoskrnl.exe";
    "file-wuaueng.txt"  = "System32\wuaueng.dll";
    "file-mshtml.txt"   = "System32\mshtml.dll";
    "file-srv.txt"      = "System32\drivers\srv.sys"
}
foreach ($name in $files.Keys) {
    $path = Join-Path $env:SystemRoot $files[$name]
    $line = "Version="
    if (Test-Path -LiteralPath $path) {
        $v = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($path)
        # FileVersion may carry a branch suffix; the parts are exact.
        $line = "Version=" + $v.FileMajorPart + "." + $v.FileMinorPart + "." + $v.FileBuildPart + "." + $v.FilePrivatePart
    }
    Write-Lines $name @($line)
}

$esu = @()
$ids = @(
    @(1, "553673ed-6ddf-419c-a153-b760283472fd"),
    @(2, "04fa0286-fa74-401e-bbe9-fbfbb158010d"),
    @(3, "16c08c85-0c8b-4009-9b2b-f1f7319e45f9")
)
foreach ($pair in $ids) {
    # "absent": licensing WMI answered but has no such product (no ESU key).
    $status = "unknown"
    try {
        $p = Get-WmiObject -Query ("SELECT LicenseStatus FROM SoftwareLicensingProduct WHERE ID='" + $pair[1] + "'") -ErrorAction Stop
        if ($p -ne $null) { $status = [string]$p.LicenseStatus } else { $status = "absent" }
    } catch {
        $status = "unknown"
    }
    $esu += ("esu-year" + $pair[0] + " " + $pair[1] + " LicenseStatus=" + $status)
}
Write-Lines "esu.txt" $esu

Write-Host ("kbplan-collect: bundle written to " + $Out)

if ($Upload -ne "") {
    if ($Token -eq "") { Write-Error "kbplan-collect: -Upload needs -Token"; exit 2 }
    # Pack with makecab (every 2008 has it) and POST the cabinet.
    $cab = Join-Path $env:TEMP ("kbplan-" + $env:COMPUTERNAME + ".cab")
    $ddf = Join-Path $env:TEMP ("kbplan-" + $env:COMPUTERNAME + ".ddf")
    $lines = @(
        (".Set CabinetNameTemplate=kbplan-" + $env:COMPUTERNAME + ".cab"),
        (".Set DiskDirectoryTemplate=" + $env:TEMP),
        ".Set Cabinet=on",
        ".Set Compress=on"
    )
    Get-ChildItem -LiteralPath $Out | Where-Object { -not $_.PSIsContainer } | ForEach-Object { $lines += ('"' + $_.FullName + '" "' + $_.Name + '"') }
    $lines | Out-File -FilePath $ddf -Encoding ASCII
    & makecab /F $ddf | Out-Null
    if ($LASTEXITCODE -ne 0) { Write-Error "kbplan-collect: makecab failed"; exit 1 }
    $wc = New-Object System.Net.WebClient
    $wc.Headers.Add("Authorization", "Bearer " + $Token)
    $wc.Headers.Add("Content-Type", "application/vnd.ms-cab-compressed")
    try {
        # UploadData sends the bytes as the body (UploadFile would wrap them
        # in a multipart form; the server takes both).
        # -Group NAME: the fleet puts the host in that group (docs/fleet.md).
        $url = $Upload
        if ($Group -ne "") {
            if ($url.Contains("?")) { $url += "&" } else { $url += "?" }
            $url += "group=" + [System.Uri]::EscapeDataString($Group)
        }
        $reply = $wc.UploadData($url, "POST", [System.IO.File]::ReadAllBytes($cab))
        Write-Host ([System.Text.Encoding]::UTF8.GetString($reply))
    } catch {
        Write-Error ("kbplan-collect: upload to " + $Upload + " failed: " + $_.Exception.Message)
        exit 1
    }
}
exit 0
