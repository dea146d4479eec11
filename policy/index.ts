import { PolicyPack } from "@pulumi/policy";
import { resourcePolicies, stackPolicies } from "./policies";

// Constructing the pack starts the policy gRPC server, so nothing but `pulumi` may import this file.
new PolicyPack("alertline-guardrails", { policies: [...resourcePolicies, ...stackPolicies] });
