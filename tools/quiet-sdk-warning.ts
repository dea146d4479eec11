// Imported first by the tools that build AWS SDK clients: the Lambda handlers they load build their
// clients while being imported, so the SDK's switch has to be set before any of them loads.
import { quietSdkNodeWarning } from "./node-support";

quietSdkNodeWarning();
