// Placeholder from the `stacks` branch so the package builds before this target has
// sources on main. Delete it once the target has real files.
