package hotswap.wire;

import java.io.IOException;

/** The peer sent something the protocol does not allow. The message says what. */
public class ProtocolException extends IOException {
    public ProtocolException(String message) {
        super(message);
    }
}
