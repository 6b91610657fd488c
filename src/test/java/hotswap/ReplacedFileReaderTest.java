package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Nothing alters a file someone may be reading: a process that mapped the live file and closed
 * its descriptor (so /proc shows the app no descriptor of it) still reads the old bytes whole after
 * a push replaced it.
 */
class ReplacedFileReaderTest extends AppAndClientTest {
    /**
     * Maps the file with libc's mmap (Python's mmap module keeps a duplicate descriptor), closes the
     * descriptor, says "mapped", waits for a line, then prints the SHA-256 and length of the mapping.
     */
    private static final String READER = String.join("\n",
            "import ctypes, hashlib, os, sys",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "libc.mmap.restype = ctypes.c_void_p",
            "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]",
            "fd = os.open(sys.argv[1], os.O_RDONLY)",
            "size = os.fstat(fd).st_size",
            "addr = libc.mmap(None, size, 1, 1, fd, 0)  # PROT_READ, MAP_SHARED",
            "assert addr != ctypes.c_void_p(-1).value, os.strerror(ctypes.get_errno())",
            "os.close(fd)",
            "print('mapped', flush=True)",
            "sys.stdin.readline()",
            "print(hashlib.sha256(ctypes.string_at(addr, size)).hexdigest(), size, flush=True)");

    @Test
    void aReaderWithTheReplacedFileMappedStillReadsItsOldBytesWhole() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(new ProcessBuilder("python3", "--version").start().waitFor() == 0,
                "python3 is not installed");
        Fixtures.itemsDb(client.resolve("new.sqlite3"), "new");
        byte[] old = Files.readAllBytes(app.db);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(old)) + " " + old.length;
        Process reader = new ProcessBuilder("python3", "-c", READER, app.db.toString()).redirectErrorStream(true).start();
        try (OutputStream stdin = reader.getOutputStream();
             BufferedReader out = new BufferedReader(new InputStreamReader(reader.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("mapped", out.readLine());

            // Twice: whatever the first push leaves to finish in the background is done before the second one swaps.
            for (int i = 0; i < 2; i++) {
                Fixtures.Result push = app.cli(client, null, "cp", "new.sqlite3", app.db.toString());
                assertEquals(0, push.exit(), push.toString());
                assertEquals("[\"new\"]", app.get("/items").body());
            }

            stdin.write('\n');
            stdin.flush();
            // A truncated file would kill the reader with SIGBUS or show it zeros: either way, not these bytes.
            assertEquals(expected, out.readLine(), "the reader's view of the replaced file");
        } finally {
            if (!reader.waitFor(10, TimeUnit.SECONDS)) {
                reader.destroyForcibly();
            }
        }
        assertEquals(List.of(), Fixtures.leftovers(app.db.getParent()));
    }
}
