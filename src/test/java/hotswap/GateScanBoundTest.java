package hotswap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hotswap.wire.OpenHandles;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * GUARANTEES: "Inside the gate nothing waits on another process: every step is bounded by the
 * swap's timeout." The look for other processes with the live file open stats every descriptor of
 * every process the app may see (all of them, for an app run as root): on a host with many open
 * descriptors it alone could outlast the timeout, so inside the gate it keeps to the swap's deadline.
 */
class GateScanBoundTest {
    private final Fixtures.Scope scope = new Fixtures.Scope();

    @AfterEach
    void cleanUp() {
        scope.close();
    }

    @Test
    void theLookForOtherProcessesGivesUpAtItsDeadlineAndFinishesBeforeIt() throws Exception {
        Path live = Fixtures.itemsDb(scope.dir().resolve("live.sqlite3"), "old");
        Object inode = OpenHandles.inodeOf(live);

        // Any look at more than no process passes a deadline of now: it must say it ran out, not "nobody".
        assertThrows(OpenHandles.OutOfTime.class, () -> OpenHandles.otherProcessesHolding(inode, System.nanoTime()));
        assertEquals(List.of(), OpenHandles.otherProcessesHolding(inode, System.nanoTime() + TimeUnit.MINUTES.toNanos(1)));
    }
}
