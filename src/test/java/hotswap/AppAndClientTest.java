package hotswap;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * For tests that drive the real CLI against the demo app: each test gets the app on a database of
 * "alpha" and "bravo", and a client working directory of its own, both removed afterwards.
 */
abstract class AppAndClientTest {
    RunningApp app;
    Path client;

    @BeforeEach
    void startAppAndClient() throws Exception {
        app = RunningApp.start("alpha", "bravo");
        client = Fixtures.tempDir();
    }

    @AfterEach
    void stopAppAndClient() {
        app.close();
        Fixtures.deleteTree(client);
    }
}
