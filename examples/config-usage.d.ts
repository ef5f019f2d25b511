export {};
//# sourceMappingURL=config-usage.d.ts.map