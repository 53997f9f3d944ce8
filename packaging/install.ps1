# Installs the Bindery agent on Windows, enrolls it with a Bindery server and starts it as a
# Windows service. The server serves this script at /install.ps1; its console shows the command
# for each policy with the enrollment token filled in. In PowerShell as Administrator:
#
#   & ([scriptblock]::Create((irm https://bindery.example.com/install.ps1))) `
#     -Server https://bindery.example.com -Token bdy_enr_...
#
# -CaCert FILE   the agent trusts this CA for the server too (a server with its own certificate).
#                The download itself goes through Windows' trust store: import the CA there, or
#                give -AgentPath.
# -AgentPath EXE use this agent build instead of downloading it from the server.
# -AllowHttp     accept a plain-http server (tests only).
#
# Enrolling again is safe: the machine keeps its identity (its state is in
# %ProgramData%\Bindery\Agent).
param(
    [Parameter(Mandatory = $true)][string]$Server,
    [string]$Token = $env:BINDERY_ENROLL_TOKEN,
    [string]$CaCert,
    [string]$AgentPath,
    [switch]$AllowHttp
)
$ErrorActionPreference = 'Stop'

$principal = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    throw 'Run this in PowerShell as Administrator.'
}
if (-not $Token) { throw 'Give -Token (a policy enrollment token).' }
$Server = $Server.TrimEnd('/')
if ($Server -like 'http://*' -and -not $AllowHttp) {
    throw "$Server is plain http: use https, or -AllowHttp for a test server."
} elseif ($Server -notlike 'https://*' -and $Server -notlike 'http://*') {
    throw "$Server is not an http(s) URL."
}

$dir = Join-Path $env:ProgramFiles 'Bindery'
$agent = Join-Path $dir 'bindery-agent.exe'
New-Item -ItemType Directory -Force -Path $dir | Out-Null

# A running agent holds its file open: stop the service before replacing it.
if (Get-Service -Name 'bindery-agent' -ErrorAction SilentlyContinue) {
    Stop-Service -Name 'bindery-agent' -ErrorAction SilentlyContinue
}
if ($AgentPath) {
    Copy-Item -Force -Path $AgentPath -Destination $agent
} else {
    $arch = if ($env:PROCESSOR_ARCHITECTURE -eq 'ARM64') { 'aarch64' } else { 'x86_64' }
    $url = "$Server/downloads/bindery-agent-windows-$arch.exe"
    Write-Host "Downloading $url"
    $tmp = "$agent.download"
    Invoke-WebRequest -UseBasicParsing -Uri $url -OutFile $tmp
    # The server publishes each build's SHA-256 beside it: a download cut short or altered on the
    # way is refused.
    $published = ((Invoke-RestMethod -UseBasicParsing -Uri "$url.sha256") -split '\s+')[0].ToLower()
    $actual = (Get-FileHash -Algorithm SHA256 -Path $tmp).Hash.ToLower()
    if ($published -ne $actual) {
        Remove-Item -Force -Path $tmp
        throw "The download of $url does not match its published SHA-256; nothing was installed."
    }
    Move-Item -Force -Path $tmp -Destination $agent
}

Write-Host "Enrolling with $Server"
$enroll = @('enroll', '--server', $Server)
if ($CaCert) { $enroll += @('--ca-cert', (Resolve-Path $CaCert).Path) }
if ($AllowHttp) { $enroll += '--allow-http' }
# The token goes by the environment, not the command line other processes can read.
$env:BINDERY_ENROLL_TOKEN = $Token
try {
    & $agent @enroll
    if ($LASTEXITCODE -ne 0) { throw 'Enrollment failed (see above).' }
} finally {
    Remove-Item Env:\BINDERY_ENROLL_TOKEN -ErrorAction SilentlyContinue
}
& $agent service install
if ($LASTEXITCODE -ne 0) { throw 'Installing the service failed (see above).' }
Write-Host "The Bindery agent is installed ($agent) and reports to $Server."
