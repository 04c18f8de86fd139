// kbplan-sha256.js: prints the SHA-256 of a file, for install.cmd on
// Windows Server 2008, where no built-in tool is known to hash with
// SHA-256 (certutil -hashfile takes an algorithm from Windows 7 on; see
// docs/kit.md). Windows Script Host runs it on every 2008 SP2, Server Core
// included:
//
//   cscript //nologo //E:jscript kbplan-sha256.js FILE
//
//   cscript //nologo //E:jscript kbplan-sha256.js /state install.state
//
// checks install.state instead: every line must be one install.cmd writes
// (kit=HEX, next=DIGITS, boots=DIGITS, done=DIGITS KBDIGITS and a short
// outcome of letters, digits and " ,():_.-"). It prints "ok", or
// "error: line N ..." and exits 1: cmd cannot look at untrusted text
// safely (Wine's cmd parses what a for variable holds), a regular
// expression can.
//
// Output: 64 lower-case hex digits, or a line starting with "error:" and
// exit code 1. The bytes come from ADODB.Stream (with MSXML turning them
// into hex), or, where ADODB cannot load the file, from a Unicode
// TextStream, two bytes per character; either way the byte count is
// checked against the file's size, so a short read is an error, never a
// wrong hash.
var K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];
var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
var W = new Array(64);
var buf = new Array(64); // the bytes of the block being filled
var fill = 0;            // bytes in buf
var total = 0;           // bytes hashed so far

// block hashes the 64 bytes in buf.
function block() {
  for (var i = 0; i < 16; i++) {
    W[i] = (buf[4 * i] << 24) | (buf[4 * i + 1] << 16) | (buf[4 * i + 2] << 8) | buf[4 * i + 3];
  }
  compress();
}

// compress hashes the block whose 16 words are in W[0..15]. Whole blocks
// go straight from the text read to W: a function call per byte is what
// costs most in JScript.
function compress() {
  var i, s0, s1, a, b, c, d, e, f, g, h, t1, t2, x;
  for (i = 16; i < 64; i++) {
    x = W[i - 15];
    s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    x = W[i - 2];
    s1 = ((x >>> 17) | (x << 15)) ^ ((x >>> 19) | (x << 13)) ^ (x >>> 10);
    W[i] = (W[i - 16] + s0 + W[i - 7] + s1) | 0;
  }
  a = H[0]; b = H[1]; c = H[2]; d = H[3]; e = H[4]; f = H[5]; g = H[6]; h = H[7];
  for (i = 0; i < 64; i++) {
    t1 = (h + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
      ((e & f) ^ (~e & g)) + K[i] + W[i]) | 0;
    t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
      ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0; H[1] = (H[1] + b) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
}

function put(b) {
  buf[fill++] = b;
  total++;
  if (fill === 64) {
    block();
    fill = 0;
  }
}

function hexDigit(c) { return c < 58 ? c - 48 : (c | 32) - 87; }

function finish() {
  var bits = total * 8, i, out = "", x;
  buf[fill++] = 0x80;
  if (fill > 56) {
    while (fill < 64) buf[fill++] = 0;
    block();
    fill = 0;
  }
  while (fill < 56) buf[fill++] = 0;
  // The length in bits, big-endian, in 64 bits (files under 2^53 bits).
  var hi = Math.floor(bits / 4294967296), lo = bits % 4294967296;
  for (i = 3; i >= 0; i--) buf[fill++] = (hi >>> (8 * i)) & 255;
  for (i = 3; i >= 0; i--) buf[fill++] = (lo >>> (8 * i)) & 255;
  block();
  for (i = 0; i < 8; i++) {
    x = (H[i] >>> 0).toString(16);
    out += "00000000".substr(x.length) + x;
  }
  return out;
}

function fail(msg) {
  WScript.Echo("error: " + msg);
  WScript.Quit(1);
}

function viaADODB(path) {
  var st, el, hex, i, j, n;
  try {
    st = new ActiveXObject("ADODB.Stream");
    st.Type = 1; // binary
    st.Open();
    st.LoadFromFile(path);
    el = new ActiveXObject("Msxml2.DOMDocument").createElement("b");
    el.dataType = "bin.hex";
  } catch (e) {
    return false;
  }
  while (!st.EOS) {
    el.nodeTypedValue = st.Read(65536);
    hex = el.text;
    n = hex.length;
    i = 0;
    if (fill === 0) {
      // Whole blocks: 128 hex digits, 8 per word.
      for (; i + 128 <= n; i += 128) {
        for (j = 0; j < 16; j++) {
          W[j] = parseInt(hex.substr(i + 8 * j, 8), 16) | 0;
        }
        compress();
        total += 64;
      }
    }
    for (; i < n; i += 2) put((hexDigit(hex.charCodeAt(i)) << 4) | hexDigit(hex.charCodeAt(i + 1)));
  }
  st.Close();
  return true;
}

function viaTextStream(path, size) {
  var fso = new ActiveXObject("Scripting.FileSystemObject"), ts, s, i, j, n, c, d;
  if (size % 2 !== 0) {
    fail(path + ": ADODB.Stream cannot read this file, and a Unicode TextStream cannot read a file of odd size (" + size + " bytes); check its SHA-256 on another machine");
  }
  ts = fso.OpenTextFile(path, 1, false, -1); // ForReading, TristateTrue: two bytes per character
  while (!ts.AtEndOfStream) {
    s = ts.Read(32768);
    n = s.length;
    i = 0;
    if (fill === 0) {
      // Whole blocks: 32 characters, two per word, each little-endian.
      for (; i + 32 <= n; i += 32) {
        for (j = 0; j < 16; j++) {
          c = s.charCodeAt(i + 2 * j);
          d = s.charCodeAt(i + 2 * j + 1);
          W[j] = ((c & 255) << 24) | ((c >>> 8) << 16) | ((d & 255) << 8) | (d >>> 8);
        }
        compress();
        total += 64;
      }
    }
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      put(c & 255);
      put(c >>> 8);
    }
  }
  ts.Close();
}

function checkState(path) {
  var fso = new ActiveXObject("Scripting.FileSystemObject");
  if (!fso.FileExists(path)) fail(path + ": no such file");
  if (fso.GetFile(path).Size > 1048576) fail(path + ": more than 1 MiB, not what install.cmd writes");
  var ts = fso.OpenTextFile(path, 1, false, 0), n = 0, line;
  var ok = /^(kit=[0-9a-f]{1,64}|next=[0-9]{1,4}|boots=[0-9]{1,4}|done=[0-9]{1,4} KB[0-9]{1,8}( [A-Za-z0-9 ,():_.-]{0,200})?)$/;
  while (!ts.AtEndOfStream) {
    line = ts.ReadLine();
    n++;
    if (!ok.test(line)) {
      ts.Close();
      fail("line " + n + " is not one install.cmd writes");
    }
  }
  ts.Close();
  WScript.Echo("ok");
}

// report sends install.state and the end of install.log to the fleet
// server named in report-to.txt (kbplan kit --report-to): the results
// document of docs/kit.md. It prints one line for install.log, of
// characters cmd passes safely, and never fails the install: every error
// is a line too.
function report(dir, event) {
  var fso = new ActiveXObject("Scripting.FileSystemObject"), url = "", token = "", ts, line, i, state, log, h, doc, host;
  var safe = function (s) { return String(s).replace(/[^A-Za-z0-9 .:\/_()=-]/g, " ").substring(0, 200); };
  try {
    if (!fso.FileExists(dir + "\\report-to.txt")) { WScript.Echo("not sent: no report-to.txt"); return; }
    ts = fso.OpenTextFile(dir + "\\report-to.txt", 1, false, 0);
    while (!ts.AtEndOfStream) {
      line = ts.ReadLine();
      if (line.indexOf("url=") === 0) url = line.substring(4);
      if (line.indexOf("token=") === 0) token = line.substring(6);
    }
    ts.Close();
    if (!/^https?:\/\/[^\s"]+$/.test(url) || token === "") { WScript.Echo("not sent: report-to.txt needs url=http(s)://... and token=..."); return; }
    state = "";
    if (fso.FileExists(dir + "\\install.state") && fso.GetFile(dir + "\\install.state").Size <= 1048576) {
      ts = fso.OpenTextFile(dir + "\\install.state", 1, false, 0);
      if (!ts.AtEndOfStream) state = ts.ReadAll();
      ts.Close();
    }
    log = "";
    if (fso.FileExists(dir + "\\install.log")) {
      ts = fso.OpenTextFile(dir + "\\install.log", 1, false, 0);
      if (!ts.AtEndOfStream) log = ts.ReadAll();
      ts.Close();
      if (log.length > 262144) {
        log = log.substring(log.length - 262144);
        i = log.indexOf("\n");
        if (i >= 0) log = log.substring(i + 1);
      }
    }
    // Wine's ExpandEnvironmentStrings keeps the string's terminating NUL.
    host = new ActiveXObject("WScript.Shell").ExpandEnvironmentStrings("%COMPUTERNAME%").replace(/\u0000/g, "");
    doc = "kbplan-install-result 1\r\nhost: " + host + "\r\nkit: \r\nevent: " + event + "\r\n[install.state]\r\n" + state;
    if (state !== "" && state.charAt(state.length - 1) !== "\n") doc += "\r\n";
    doc += "[install.log]\r\n" + log;
    try { h = new ActiveXObject("MSXML2.ServerXMLHTTP.6.0"); } catch (e) { h = new ActiveXObject("MSXML2.ServerXMLHTTP"); }
    // Seconds, not minutes: a server that does not answer must not hold
    // the install up (resolve, connect, send, receive).
    h.setTimeouts(5000, 5000, 15000, 15000);
    h.open("POST", url, false);
    h.setRequestHeader("Authorization", "Bearer " + token);
    h.setRequestHeader("Content-Type", "text/plain; charset=utf-8");
    h.send(doc);
    if (h.status === 201 || h.status === 200) WScript.Echo("sent to " + safe(url) + " (" + h.status + ")");
    else WScript.Echo("not sent: " + safe(url) + " answered " + h.status + " " + safe(h.responseText));
  } catch (e) {
    WScript.Echo("not sent: " + safe(e.message));
  }
}

function main() {
  if (WScript.Arguments.length === 3 && WScript.Arguments(0) === "/report") return report(WScript.Arguments(1), WScript.Arguments(2));
  if (WScript.Arguments.length === 2 && WScript.Arguments(0) === "/state") return checkState(WScript.Arguments(1));
  if (WScript.Arguments.length !== 1) fail("usage: cscript //nologo //E:jscript kbplan-sha256.js FILE | /state install.state | /report KITDIR EVENT");
  var path = WScript.Arguments(0), fso = new ActiveXObject("Scripting.FileSystemObject"), size;
  if (!fso.FileExists(path)) fail(path + ": no such file");
  size = fso.GetFile(path).Size;
  if (!viaADODB(path)) viaTextStream(path, size);
  if (total !== size) fail(path + ": read " + total + " bytes of " + size + "; the hash would be wrong");
  WScript.Echo(finish());
}

main();
