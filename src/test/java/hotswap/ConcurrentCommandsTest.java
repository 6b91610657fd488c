package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Several commands on one database at once, through the relay, as operators in two shells would run them. */
class ConcurrentCommandsTest {
    private static final String TARGET = RemoteSide.HOST + ":db/production.sqlite3";
    private RemoteSide remote;

    @BeforeEach
    void setUp() throws Exception {
        remote = new RemoteSide("");
        Files.delete(remote.db);
        Fixtures.itemsDb(remote.db, rows("old", 3000));
        remote.start();
        Fixtures.itemsDb(remote.local.resolve("a.sqlite3"), rows("a", 3000));
        Fixtures.itemsDb(remote.local.resolve("b.sqlite3"), rows("b", 3000));
        sql(remote.local.resolve("a.sqlite3"), "PRAGMA journal_mode=DELETE");
        sql(remote.local.resolve("b.sqlite3"), "PRAGMA journal_mode=DELETE");
    }

    @AfterEach
    void tearDown() {
        remote.close();
    }

    private static String[] rows(String tag, int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(tag + " " + i + " some text to fill pages");
        }
        return names.toArray(String[]::new);
    }

    private static void sql(Path db, String s) throws Exception {
        Fixtures.createDb(db, s);
    }

    private CompletableFuture<Fixtures.Result> cp(String... args) {
        return Fixtures.concurrently(() -> remote.cp(null, args));
    }

    @Test
    void remotePushesDeltaAndWholeAndADeltaPullAndAStatusAtOnceEachEndWhole() throws Exception {
        assertEquals(0, remote.cp(null, TARGET, "copy.sqlite3").exit());
        for (int round = 0; round < 3; round++) {
            CompletableFuture<Fixtures.Result> a = cp("a.sqlite3", TARGET, "--delta");
            CompletableFuture<Fixtures.Result> b = cp("b.sqlite3", TARGET, "--no-delta", "--keep-previous");
            CompletableFuture<Fixtures.Result> pull = cp(TARGET, "copy.sqlite3", "--delta");
            CompletableFuture<Fixtures.Result> status = Fixtures.concurrently(() ->
                    Fixtures.cli(remote.local, remote.env(), null, "status", RemoteSide.HOST + ":", "--rsh", remote.fakeSsh.toString()));
            Fixtures.Result ra = a.get(60, TimeUnit.SECONDS);
            Fixtures.Result rb = b.get(60, TimeUnit.SECONDS);
            Fixtures.Result rp = pull.get(60, TimeUnit.SECONDS);
            Fixtures.Result rs = status.get(60, TimeUnit.SECONDS);
            System.out.println("round " + round + "\na: " + ra + "\nb: " + rb + "\npull: " + rp + "\nstatus: " + rs);
            assertEquals(0, ra.exit(), ra.toString());
            assertEquals(0, rb.exit(), rb.toString());
            assertEquals(0, rp.exit(), rp.toString());
            assertEquals(0, rs.exit(), rs.toString());
            String live = Fixtures.query(remote.db, "SELECT substr(name, 1, 2) FROM items WHERE id = 1").get(0);
            assertTrue(live.equals("a ") || live.equals("b "), live);
            // Checked on a copy: a read-only connection would leave a -shm beside the next pull's destination.
            Path check = Files.copy(remote.local.resolve("copy.sqlite3"), remote.root.resolve("check.sqlite3"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            assertEquals(List.of("ok"), Fixtures.query(check, "PRAGMA integrity_check"));
            Files.delete(check);
            Files.deleteIfExists(remote.root.resolve("check.sqlite3-shm"));
            Files.deleteIfExists(remote.root.resolve("check.sqlite3-wal"));
            assertEquals(List.of(), Fixtures.leftovers(remote.db.getParent()));
            assertEquals(List.of(), Fixtures.leftovers(remote.local));
        }
    }
}
