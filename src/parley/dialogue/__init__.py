"""Conversation state above the models: history, persona, (later) memory, knowledge and procedure."""
