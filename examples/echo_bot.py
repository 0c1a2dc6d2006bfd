# A felund echo bot: `pip install ./python`, then `python examples/echo_bot.py`.
from felund import Bot

bot = Bot()  # socket: $FELUND_SOCKET or felundd's default; circle: $FELUND_BOT_CIRCLE or all

@bot.command("echo", help="repeat TEXT")
def echo(msg, args):
    return args

@bot.command("ping", help="answer pong")
def ping(msg, args):
    return "pong"

bot.run()
