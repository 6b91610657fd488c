package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Paths mean what the kernel says: in {@code db/link/../x}, {@code ..} is the parent of the
 * directory {@code link} points to, not {@code db}. Reading it as text would take another
 * directory's file for the managed database, or miss the managed one.
 */
class RealPathTest {
    private Path base;
    private Path live;
    private Hotswap hotswap;

    @BeforeEach
    void tree() throws Exception {
        base = Fixtures.tempDir().toRealPath();
        live = Fixtures.itemsDb(Files.createDirectories(base.resolve("db")).resolve("production.sqlite3"), "live");
        Files.createDirectories(base.resolve("other/sub"));
        Files.createDirectories(base.resolve("db/sub"));
        Files.createSymbolicLink(base.resolve("db/link"), base.resolve("other/sub")); // db/link/.. is other
        Files.createSymbolicLink(base.resolve("other/back"), base.resolve("db/sub")); // other/back/.. is db
        hotswap = Hotswap.builder().socket(base.resolve("hs.sock")).database(live).build();
    }

    @AfterEach
    void tearDown() {
        hotswap.close();
        Fixtures.deleteTree(base);
    }

    @Test
    void aDotDotAfterASymlinkNamesTheLinkTargetsParentNotTheManagedDatabase() throws Exception {
        String elsewhere = base + "/db/link/../production.sqlite3";
        assertNull(hotswap.findManaged(elsewhere), "missing " + base.resolve("other/production.sqlite3"));
        assertThrows(IllegalArgumentException.class, () -> hotswap.database(Path.of(elsewhere)));

        Fixtures.itemsDb(base.resolve("other/production.sqlite3"), "another database");
        assertNull(hotswap.findManaged(elsewhere), "an existing file of that name elsewhere");
        assertThrows(IllegalArgumentException.class, () -> hotswap.database(Path.of(elsewhere)));
    }

    @Test
    void aDotDotAfterASymlinkThatLeadsBackFindsTheManagedDatabase() {
        String back = base + "/other/back/../production.sqlite3";
        ManagedDatabase db = hotswap.database(live);
        assertSame(db, hotswap.findManaged(back));
        assertSame(db, hotswap.database(Path.of(back)));
    }

    @Test
    void aDatabaseRegisteredThroughSuchAPathIsTheFileTheKernelNames() {
        Hotswap other = Hotswap.builder().socket(base.resolve("hs2.sock"))
                .database(Path.of(base + "/db/link/../new.sqlite3")).build();
        try {
            assertEquals(base.resolve("other/new.sqlite3"), other.databases().get(0).path());
        } finally {
            other.close();
        }
    }

    @Test
    void aMissingPathEndingInDotOrDotDotIsNoDatabase() {
        assertNull(hotswap.findManaged(base + "/missing/.."));
        assertNull(hotswap.findManaged(base + "/missing/."));
        assertThrows(IllegalArgumentException.class, () -> Hotswap.builder().database(Path.of(base + "/missing/..")));
    }
}
